using System.Buffers;

namespace ModelShrink.Onnx.Tensors;

/// <summary>
/// One file of a loaded model that tensors' bytes lie in (an external-data file, or the model file itself
/// for large inline weights, see IO.LargeRawData), mapped read-only on first use and shared by those
/// tensors. A tensor's bytes are then a view of the page cache, not a copy: reading a 3 GB model's weights
/// into fresh arrays cost more kernel time (a fault and a copy per page) than quantizing them did. The
/// mapping is released when the last tensor holding it is collected (the load check collects before ONNX
/// Runtime opens the result), so a view stays valid while its tensor is reachable.
/// </summary>
internal sealed unsafe class MappedDataFile
{
    private readonly string path;
    private readonly object gate = new();
    private MappedFile? mapped;
    private bool failed;

    public MappedDataFile(string path) => this.path = path;

    ~MappedDataFile() => Release();

    /// <summary>
    /// The bytes [offset, offset + length) viewed in place, or null where the file cannot be mapped (an
    /// empty file, a file system without mappings): the caller then reads them.
    /// </summary>
    public ReadOnlyMemory<byte>? View(long offset, int length)
    {
        var file = Map();
        return file is null ? null : new Slice(this, file.Pointer + offset, length).Memory;
    }

    private MappedFile? Map()
    {
        lock (gate)
        {
            if (mapped is null && !failed)
            {
                try
                {
                    // Others may read, replace or delete the source while it is mapped (as with ONNX Runtime's own mapping).
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    mapped = new MappedFile(stream);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
                {
                    failed = true;
                }
            }

            return mapped;
        }
    }

    private void Release()
    {
        lock (gate)
        {
            ((IDisposable?)mapped)?.Dispose();
            mapped = null;
            failed = true;
        }
    }

    // A tensor's bytes inside the mapping; holding the file keeps the mapping alive.
    private sealed class Slice(MappedDataFile file, byte* start, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan()
        {
            // Also what makes the slice hold `file` (a primary-constructor parameter is kept only where a member reads it).
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
