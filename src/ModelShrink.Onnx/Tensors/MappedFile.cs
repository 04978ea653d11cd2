using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace ModelShrink.Onnx.Tensors;

/// <summary>
/// A read-only memory-mapped view of a whole file. As a <see cref="ReadOnlySequence{T}"/> (files under
/// 2 GB): parsing from a sequence of known length lets Google.Protobuf allocate each bytes field once at
/// its exact size and reject a length that runs past the end at once; from a plain Stream it gathers
/// large fields in 4 KB chunks and copies them again. <see cref="Pointer"/> reaches any file length
/// (<see cref="MappedDataFile"/>'s views of weights).
/// </summary>
internal sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile map;
    private readonly MemoryMappedViewAccessor view;
    private readonly long length;

    public MappedFile(FileStream file)
    {
        length = file.Length;
        map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        Pointer = start + view.PointerOffset;
    }

    /// <summary>The file's first byte, valid until disposal.</summary>
    public byte* Pointer { get; }

    public ReadOnlySequence<byte> Sequence => new(Memory);

    public override Span<byte> GetSpan() => new(Pointer, checked((int)length));

    public override MemoryHandle Pin(int elementIndex = 0) => new(Pointer + elementIndex);

    public override void Unpin()
    {
    }

    // The view's handle is finalized only after a finalizer that calls this (a critical finalizer), so the
    // pointer can be released from one too.
    protected override void Dispose(bool disposing)
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }
}
