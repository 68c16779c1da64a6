using System;
using System.Collections.Generic;

namespace Memalloc.Fuzz;

/// <summary>
/// Deterministic mutations of a seed for the replay in the Test task (no AFL there): a fixed seed gives the same
/// mutants on every machine. Bit flips and interesting values in the overlay, the layout flags, and appended
/// operations: the moves AFL's havoc stage makes most, without its coverage feedback.
/// </summary>
internal sealed class Mutator
{
    private static readonly ulong[] s_interesting64 =
    [
        1UL << 60, 1UL << 61, 1UL << 62, 1UL << 63, 1UL << 32, 1UL << 31, 0xFFFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, 0x80, 0xFF,
    ];

    private readonly Random _random;

    internal Mutator(int seed)
    {
        _random = new Random(seed);
    }

    internal byte[] Mutate(byte[] seed)
    {
        var input = new List<byte>(seed);
        var count = 1 + _random.Next(6);
        for (var i = 0; i < count; i++)
        {
            var overlay = Math.Max(FuzzCase.HeaderBytes + 1, Math.Min(input.Count, FuzzCase.OverlayEnd));
            switch (_random.Next(6))
            {
                case 0: // one bit
                    var at = FuzzCase.HeaderBytes + _random.Next(overlay - FuzzCase.HeaderBytes);
                    Grow(input, at + 1);
                    input[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1: // one byte
                    at = FuzzCase.HeaderBytes + _random.Next(overlay - FuzzCase.HeaderBytes);
                    Grow(input, at + 1);
                    input[at] = (byte)_random.Next(256);
                    break;
                case 2: // an aligned 64-bit field XOR an interesting value
                    at = FuzzCase.HeaderBytes + (_random.Next((overlay - FuzzCase.HeaderBytes) / 8) * 8);
                    Grow(input, at + 8);
                    var value = s_interesting64[_random.Next(s_interesting64.Length)];
                    for (var b = 0; b < 8; b++)
                    {
                        input[at + b] ^= (byte)(value >> (8 * b));
                    }

                    break;
                case 3: // layout flags
                    Grow(input, 2);
                    input[1] ^= (byte)(1 << _random.Next(8));
                    break;
                default: // an operation with random operands
                    Grow(input, FuzzCase.OverlayEnd);
                    var operation = new byte[1 + _random.Next(16)];
                    _random.NextBytes(operation);
                    input.AddRange(operation);
                    break;
            }
        }

        return [.. input];
    }

    private static void Grow(List<byte> input, int length)
    {
        while (input.Count < length)
        {
            input.Add(0);
        }
    }
}
