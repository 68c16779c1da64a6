namespace Memalloc.Core;

/// <summary>
/// The rule for store names: 1 to <see cref="Layout.StoreNameMaxLength"/> characters of ASCII letters, digits, '.',
/// '_' and '-', compared case-sensitively ("Jobs" and "jobs" are two stores: the name is part of the key derivation and
/// of the anchor's identity, byte for byte).
/// </summary>
internal static class StoreName
{
    internal static bool IsValid(string? storeName)
    {
        if (string.IsNullOrEmpty(storeName) || storeName.Length > Layout.StoreNameMaxLength)
        {
            return false;
        }

        foreach (var c in storeName)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="MemStoreErrorKind.InvalidStoreName"/> unless valid.</summary>
    internal static void Validate(string storeName)
    {
        if (!IsValid(storeName))
        {
            throw new MemStoreException(MemStoreErrorKind.InvalidStoreName,
                $"Store name '{storeName}' is not valid: use 1 to {Layout.StoreNameMaxLength} characters of letters A-Z and a-z, digits, '.', '_' or '-'.");
        }
    }
}
