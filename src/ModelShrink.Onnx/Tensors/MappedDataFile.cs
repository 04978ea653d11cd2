using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace ModelShrink.Onnx.Tensors;

/// <summary>
/// One file of a loaded model that tensors' bytes lie in (an external-data file, or the model file itself
/// for large inline weights, see LargeRawData), mapped read-only on first use and shared by those tensors. A tensor's bytes are then a view of the page cache, not a copy: reading a 3 GB
/// model's weights into fresh arrays cost more kernel time (a fault and a copy per page) than
/// quantizing them did. The mapping is released when the last tensor holding it is collected (the load
/// check collects before ONNX Runtime opens the result), so a view stays valid while its tensor is reachable.
/// </summary>
internal sealed unsafe class MappedDataFile
{
    private readonly string path;
    private readonly object gate = new();
    private MemoryMappedFile? map;
    private MemoryMappedViewAccessor? view;
    private byte* pointer;
    private bool failed;

    public MappedDataFile(string path) => this.path = path;

    ~MappedDataFile() => Release();

    /// <summary>
    /// The bytes [offset, offset + length) viewed in place, or null where the file cannot be mapped (an
    /// empty file, a file system without mappings): the caller then reads them.
    /// </summary>
    public ReadOnlyMemory<byte>? View(long offset, int length)
    {
        var start = Start();
        return start is null ? null : new Slice(this, start + offset, length).Memory;
    }

    private byte* Start()
    {
        lock (gate)
        {
            if (pointer is null && !failed)
            {
                try
                {
                    // Others may read, replace or delete the source while it is mapped (as with ONNX Runtime's own mapping).
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
                    view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                    byte* start = null;
                    view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
                    pointer = start + view.PointerOffset;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
                {
                    failed = true;
                    view?.Dispose();
                    map?.Dispose();
                }
            }

            return pointer;
        }
    }

    // The view's handle is finalized only after this (a critical finalizer), so the pointer can be released here.
    private void Release()
    {
        lock (gate)
        {
            if (pointer is not null)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
                pointer = null;
            }

            view?.Dispose();
            map?.Dispose();
            failed = true;
        }
    }

    // A tensor's bytes inside the mapping; holding the file keeps the mapping alive.
    private sealed class Slice(MappedDataFile file, byte* start, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan()
        {
            GC.KeepAlive(file);
            return new Span<byte>(start, length);
        }

        public override MemoryHandle Pin(int elementIndex = 0) => new(start + elementIndex, default, this);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
