using System;
using System.Collections.Generic;
using System.Reflection;
using System.Reflection.Emit;
using Xunit;

namespace Memalloc.Core.Tests;

/// <summary>
/// Issue 9, defect 7 (ordering): the seqlock re-check of a lock-free read must re-read the arena's generation only
/// after every load of the copy, on every architecture. No test can make the JIT or the CPU reorder those loads on
/// demand, so this pins the code's shape instead: on every path through <c>ArenaView.StillValid</c>, a full barrier
/// comes before the generation is loaded (before any branch, so that no architecture check can skip it).
/// </summary>
public class ReadOrderingTests
{
    private static readonly Dictionary<short, OpCode> s_opCodesByValue = LoadOpCodes();

    [Fact]
    public void SeqlockRecheck_FencesBeforeRereadingTheGeneration_OnEveryArchitecture()
    {
        var method = typeof(ArenaView).GetMethod(nameof(ArenaView.StillValid), BindingFlags.Instance | BindingFlags.NonPublic)!;
        var il = method.GetMethodBody()!.GetILAsByteArray()!;
        for (var position = 0; position < il.Length;)
        {
            var opCode = il[position] == 0xFE ? s_opCodesByValue[(short)(0xFE00 | il[position + 1])] : s_opCodesByValue[il[position]];
            var operand = position + opCode.Size;
            Assert.False(opCode.FlowControl is FlowControl.Branch or FlowControl.Cond_Branch or FlowControl.Return,
                $"IL_{position:x4}: {opCode.Name} before the barrier: some path re-reads the generation without one");
            if (opCode == OpCodes.Call || opCode == OpCodes.Callvirt)
            {
                var callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, operand))!;
                if (callee.DeclaringType == typeof(System.Threading.Interlocked) && callee.Name == "MemoryBarrier")
                {
                    return;
                }

                Assert.False(callee.DeclaringType == typeof(System.Threading.Volatile),
                    $"IL_{position:x4}: {callee.DeclaringType!.Name}.{callee.Name} loads before the barrier");
            }

            position = operand + OperandSize(opCode.OperandType, il, operand);
        }

        Assert.Fail("StillValid has no Interlocked.MemoryBarrier()");
    }

    private static int OperandSize(OperandType type, byte[] il, int at) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
        _ => 4,
    };

    private static Dictionary<short, OpCode> LoadOpCodes()
    {
        var result = new Dictionary<short, OpCode>();
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.GetValue(null) is OpCode code)
            {
                result[code.Value] = code;
            }
        }

        return result;
    }
}
