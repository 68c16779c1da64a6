<?php
// Peer benchmarks for tests/Benchmarks/Peers.Bench.ps1 and Scale.Bench.ps1: PHP APCu (apcu_store, apcu_fetch) and
// PHP sysvshm (shm_put_var, shm_get_var) with the same value sizes, and the same random-read workload, as the
// core's benchmarks.
//
//   php -d apc.enable_cli=1 php-peers.php apcu [cpu|wall] [blocks]
//   php php-peers.php sysvshm [cpu|wall] [blocks]
//   php -d apc.enable_cli=1 -d apc.shm_size=768M -d apc.entries_hint=1048576 php-peers.php apcu-scale [cpu|wall] [blocks]
//
// Each case is timed (wall: hrtime(); cpu, the default: this process's user + system time from getrusage(), the
// same clock the .NET benchmarks use) in blocks of N iterations (N calibrated to ~100 ms), after a warm-up block;
// the median block is reported in ns per operation, minus the cost of the same loop with an empty body
// (BenchmarkDotNet subtracts its own loop overhead the same way). Prints one JSON document on stdout.

declare(strict_types=1);

const SIZES = [16, 1024, 65536, 1048576];
const BLOCK_NS = 100_000_000;
// Random reads: 100-byte values, names picked at random from the whole store (a fixed sequence), as ScaleBenchmarks.
const SCALE_STACKS = [100, 1_000_000];
const SCALE_VALUE = 100;
const PICKS = 16384;

$GLOBALS['cpuClock'] = ($argv[2] ?? 'cpu') !== 'wall';
$GLOBALS['blocks'] = max(1, (int)($argv[3] ?? 9));

/** Nanoseconds on the chosen clock. */
function now(): int
{
    if (!$GLOBALS['cpuClock']) {
        return hrtime(true);
    }
    $r = getrusage();
    return ($r['ru_utime.tv_sec'] + $r['ru_stime.tv_sec']) * 1_000_000_000
        + ($r['ru_utime.tv_usec'] + $r['ru_stime.tv_usec']) * 1000;
}

function median(array $values): float
{
    sort($values);
    $n = count($values);
    return $n % 2 ? (float)$values[intdiv($n, 2)] : ($values[$n / 2 - 1] + $values[$n / 2]) / 2.0;
}

/** Median ns per iteration of $body($n) over the blocks, $n calibrated so a block takes about BLOCK_NS. */
function measure(callable $body): float
{
    $n = 16;
    while (true) {
        $start = now();
        $body($n);
        $elapsed = now() - $start;
        if ($elapsed >= BLOCK_NS / 4 || $n >= (1 << 26)) {
            break;
        }
        $n *= 2;
    }
    $n = max(1, (int)($n * BLOCK_NS / max($elapsed, 1)));
    $body($n); // warm-up block
    $perOp = [];
    for ($b = 0; $b < $GLOBALS['blocks']; $b++) {
        $start = now();
        $body($n);
        $perOp[] = (now() - $start) / $n;
    }
    return median($perOp);
}

/** Shared memory this process maps with huge pages (kB), as ScaleBenchmarks reads it for the core. */
function hugePagesMappedKb(): int
{
    $total = 0;
    foreach (@file('/proc/self/smaps_rollup') ?: [] as $line) {
        if (preg_match('/^(ShmemPmdMapped|Shared_Hugetlb|Private_Hugetlb):\s+(\d+) kB/', $line, $m)) {
            $total += (int)$m[2];
        }
    }
    return $total;
}

/**
 * Set, Get and Set+Get of one value per size. $cases($value) returns the three loops, each calling the peer's
 * functions directly (a closure call per operation would be counted against the peer); $get() reads the value back
 * once to check it.
 */
function sizeCases(callable $cases, callable $get, float $loopNs): array
{
    $results = [];
    foreach (SIZES as $size) {
        $value = random_bytes($size);
        $bodies = $cases($value);
        $bodies['Set'](1);
        if ($get() !== $value) {
            throw new RuntimeException("The peer did not return the $size-byte value it was given.");
        }
        foreach ($bodies as $method => $body) {
            $results[] = ['method' => $method, 'size' => $size, 'medianNs' => max(0.0, measure($body) - $loopNs)];
        }
    }
    return $results;
}

function requireApcu(): void
{
    if (!function_exists('apcu_store') || !apcu_enabled()) {
        fwrite(STDERR, "APCu is not loaded or not enabled (php -d apc.enable_cli=1).\n");
        exit(2);
    }
}

$peer = $argv[1] ?? '';
$key = 'bench-value';
$results = [];
$facts = [];
$cleanup = null;

$loopNs = measure(function (int $n): void {
    for ($i = 0; $i < $n; $i++) {
    }
});

try {
    if ($peer === 'apcu') {
        requireApcu();
        $cleanup = function () use ($key): void { apcu_delete($key); };
        $results = sizeCases(fn(string $value) => [
            'Set' => function (int $n) use ($key, $value): void {
                for ($i = 0; $i < $n; $i++) {
                    apcu_store($key, $value);
                }
            },
            'Get' => function (int $n) use ($key): void {
                for ($i = 0; $i < $n; $i++) {
                    $v = apcu_fetch($key);
                }
            },
            'SetGet' => function (int $n) use ($key, $value): void {
                for ($i = 0; $i < $n; $i++) {
                    apcu_store($key, $value);
                    $v = apcu_fetch($key);
                }
            },
        ], fn() => apcu_fetch($key), $loopNs);
    } elseif ($peer === 'sysvshm') {
        if (!function_exists('shm_attach')) {
            fwrite(STDERR, "sysvshm is not compiled into this php-cli.\n");
            exit(2);
        }
        // IPC_PRIVATE (key 0): always a new segment of our own. A chosen key could name a segment of someone else on
        // this shared machine, and shm_attach would attach it and write its header into it. Removed in finally.
        $shm = shm_attach(0, 4 * 1048576, 0600);
        if ($shm === false) {
            throw new RuntimeException('shm_attach failed.');
        }
        $cleanup = function () use ($shm): void { shm_remove($shm); };
        $results = sizeCases(fn(string $value) => [
            'Set' => function (int $n) use ($shm, $value): void {
                for ($i = 0; $i < $n; $i++) {
                    shm_put_var($shm, 1, $value);
                }
            },
            'Get' => function (int $n) use ($shm): void {
                for ($i = 0; $i < $n; $i++) {
                    $v = shm_get_var($shm, 1);
                }
            },
            'SetGet' => function (int $n) use ($shm, $value): void {
                for ($i = 0; $i < $n; $i++) {
                    shm_put_var($shm, 1, $value);
                    $v = shm_get_var($shm, 1);
                }
            },
        ], fn() => shm_get_var($shm, 1), $loopNs);
    } elseif ($peer === 'apcu-scale') {
        requireApcu();
        $cleanup = function (): void { apcu_clear_cache(); };
        $value = random_bytes(SCALE_VALUE);
        foreach (SCALE_STACKS as $stacks) {
            apcu_clear_cache();
            for ($i = 0; $i < $stacks; $i++) {
                if (!apcu_store(sprintf('stack-%07d', $i), $value)) {
                    throw new RuntimeException("apcu_store failed at entry $i of $stacks (raise apc.shm_size).");
                }
            }
            mt_srand(42);
            $picks = [];
            for ($i = 0; $i < PICKS; $i++) {
                $picks[] = sprintf('stack-%07d', mt_rand(0, $stacks - 1));
            }
            if (apcu_fetch($picks[0]) !== $value) {
                throw new RuntimeException("APCu did not return the value of $picks[0].");
            }
            $body = function (int $n) use ($picks): void {
                for ($i = 0; $i < $n; $i++) {
                    $v = apcu_fetch($picks[$i & (PICKS - 1)]);
                }
            };
            $results[] = ['method' => 'GetRandom', 'size' => SCALE_VALUE, 'stacks' => $stacks,
                'medianNs' => max(0.0, measure($body) - $loopNs)];
            $facts["HugePagesMappedKb.$stacks"] = hugePagesMappedKb();
        }
    } else {
        fwrite(STDERR, "usage: php php-peers.php apcu|sysvshm|apcu-scale [cpu|wall] [blocks]\n");
        exit(2);
    }
} finally {
    if ($cleanup !== null) {
        $cleanup();
    }
}

echo json_encode(['peer' => $peer, 'clock' => $GLOBALS['cpuClock'] ? 'cpu' : 'wall', 'php' => PHP_VERSION,
    'loopOverheadNs' => $loopNs, 'results' => $results, 'facts' => (object)$facts], JSON_PRETTY_PRINT), "\n";
