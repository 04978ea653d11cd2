using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// A read-only memory-mapped view of a whole file as a <see cref="ReadOnlySequence{T}"/>.
/// Parsing from a sequence of known length lets Google.Protobuf allocate each bytes field once at
/// its exact size and reject a length that runs past the end at once; from a plain Stream it
/// gathers large fields in 4 KB chunks and copies them again.
/// </summary>
internal sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile map;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* pointer;
    private readonly int length;

    public MappedFile(FileStream file)
    {
        length = checked((int)file.Length);
        map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        pointer = start + view.PointerOffset;
    }

    public ReadOnlySequence<byte> Sequence => new(Memory);

    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }
}
