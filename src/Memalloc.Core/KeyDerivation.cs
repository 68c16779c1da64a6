using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Memalloc.Core;

/// <summary>
/// System V keys of a store's segments. The anchor key depends on (uid, store name, probe) so users and stores do
/// not meet; arena keys depend on (anchor key, generation) so that an arena orphaned by a crashed growth can be
/// found again and removed. 0 (IPC_PRIVATE) and -1 are never produced.
/// </summary>
internal static class KeyDerivation
{
    /// <summary>Anchor candidates scanned before creating: a foreign segment on one probe does not block the store.</summary>
    internal const int AnchorProbes = 16;

    /// <summary>Generations tried when an arena key is taken by a segment that is not ours.</summary>
    internal const int ArenaProbes = 16;

    internal static int AnchorKey(uint uid, string storeName, int probe) =>
        Derive(string.Create(CultureInfo.InvariantCulture, $"memalloc/1/{uid}/{storeName}/{probe}"));

    internal static int ArenaKey(int anchorKey, uint generation) =>
        Derive(string.Create(CultureInfo.InvariantCulture, $"memalloc/1/arena/{anchorKey}/{generation}"));

    private static int Derive(string text)
    {
        var key = unchecked((int)XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(text)));
        return key is 0 or -1 ? key ^ 0x5A5A5A5A : key;
    }
}
