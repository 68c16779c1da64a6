<?php
// Peer benchmarks for tools/Invoke-Benchmarks.ps1: PHP APCu (apcu_store + apcu_fetch) and PHP sysvshm
// (shm_put_var + shm_get_var) with the same value sizes as the core's benchmarks.
//
//   php -d apc.enable_cli=1 php-peers.php apcu [cpu|wall]
//   php php-peers.php sysvshm [cpu|wall]
//
// Each case is timed (wall: hrtime(); cpu, the default: this process's user + system time from getrusage(), the
// same clock the .NET benchmarks use, so time spent waiting for a core on a busy machine is not counted) in blocks of N iterations (N calibrated to ~100 ms), after a warm-up block;
// the median block is reported in ns per operation, minus the cost of the same loop with an empty body
// (BenchmarkDotNet subtracts its own loop overhead the same way). Prints one JSON document on stdout.

declare(strict_types=1);

const SIZES = [16, 1024, 65536, 1048576];
const BLOCKS = 9;
const BLOCK_NS = 100_000_000;

$GLOBALS['cpuClock'] = ($argv[2] ?? 'cpu') !== 'wall';

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

/** Median ns per iteration of $body($n) over BLOCKS blocks, $n calibrated so a block takes about BLOCK_NS. */
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
    for ($b = 0; $b < BLOCKS; $b++) {
        $start = now();
        $body($n);
        $perOp[] = (now() - $start) / $n;
    }
    return median($perOp);
}

$peer = $argv[1] ?? '';
$key = 'bench-value';
$results = [];
$cleanup = null;

$empty = function (int $n): void {
    for ($i = 0; $i < $n; $i++) {
    }
};
$loopNs = measure($empty);

try {
    if ($peer === 'apcu') {
        if (!function_exists('apcu_store') || !apcu_enabled()) {
            fwrite(STDERR, "APCu is not loaded or not enabled (php -d apc.enable_cli=1).\n");
            exit(2);
        }
        $cleanup = function () use ($key): void { apcu_delete($key); };
        foreach (SIZES as $size) {
            $value = random_bytes($size);
            apcu_store($key, $value);
            $cases = [
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
            ];
            if (apcu_fetch($key) !== $value) {
                throw new RuntimeException("APCu did not return the $size-byte value it was given.");
            }
            foreach ($cases as $method => $body) {
                $results[] = ['method' => $method, 'size' => $size, 'medianNs' => max(0.0, measure($body) - $loopNs)];
            }
        }
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
        foreach (SIZES as $size) {
            $value = random_bytes($size);
            shm_put_var($shm, 1, $value);
            $cases = [
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
            ];
            if (shm_get_var($shm, 1) !== $value) {
                throw new RuntimeException("sysvshm did not return the $size-byte value it was given.");
            }
            foreach ($cases as $method => $body) {
                $results[] = ['method' => $method, 'size' => $size, 'medianNs' => max(0.0, measure($body) - $loopNs)];
            }
        }
    } else {
        fwrite(STDERR, "usage: php php-peers.php apcu|sysvshm\n");
        exit(2);
    }
} finally {
    if ($cleanup !== null) {
        $cleanup();
    }
}

echo json_encode(['peer' => $peer, 'clock' => $GLOBALS['cpuClock'] ? 'cpu' : 'wall', 'php' => PHP_VERSION, 'loopOverheadNs' => $loopNs, 'results' => $results],
    JSON_PRETTY_PRINT), "\n";
