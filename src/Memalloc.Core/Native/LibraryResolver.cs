using System;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Memalloc.Core.Native;

/// <summary>
/// Where <see cref="Libc.LibraryName"/> comes from. "libc" alone does not resolve everywhere (glibc's libc.so is a
/// linker script, musl names it after the loader, macOS has libSystem), so the real file is picked per platform;
/// MEMALLOC_LIBC overrides it for odd systems. <see cref="PosixSharedMemory.RealtimeLibraryName"/> is libc where libc
/// has shm_open, else glibc's older librt. Installed by the module initializer, before any code of this assembly
/// runs, so that no P/Invoke of any class can come first.
/// </summary>
internal static class LibraryResolver
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The resolver must be in place before the first P/Invoke of this assembly, whichever class makes it.")]
    internal static void Install() => NativeLibrary.SetDllImportResolver(typeof(LibraryResolver).Assembly, Resolve);

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        Libc.LibraryName => LoadLibc(),
        PosixSharedMemory.RealtimeLibraryName => LoadRealtime(),
        _ => IntPtr.Zero,
    };

    private static IntPtr LoadLibc()
    {
        var overridePath = Environment.GetEnvironmentVariable("MEMALLOC_LIBC");
        if (!string.IsNullOrEmpty(overridePath) && NativeLibrary.TryLoad(overridePath, out var handle))
        {
            return handle;
        }

        string[] candidates = OperatingSystem.IsMacOS()
            ? ["/usr/lib/libSystem.B.dylib", "libc.dylib"]
            : ["libc.so.6", "libc.musl-" + (RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64") + ".so.1", "libc.so"];
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    /// <summary>Where shm_open and shm_unlink are: libc itself on macOS, musl and glibc 2.34 or later; glibc before 2.34
    /// (Debian 11, Ubuntu 20.04, RHEL 8) keeps them in librt.so.1.</summary>
    private static IntPtr LoadRealtime()
    {
        var libc = LoadLibc();
        if (libc != IntPtr.Zero && NativeLibrary.TryGetExport(libc, "shm_open", out _))
        {
            return libc;
        }

        return NativeLibrary.TryLoad("librt.so.1", out var handle) ? handle : IntPtr.Zero;
    }
}
