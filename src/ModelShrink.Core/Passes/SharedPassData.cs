using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;

namespace ModelShrink.Core.Passes;

/// <summary>The data passes share, each provided by one pass.</summary>
public static class SharedPassData
{
    /// <summary>The model after clean-up, before pruning and quantization: what reconstruction measures against (from <see cref="TeacherSnapshotPass"/>).</summary>
    public static readonly PassData<TeacherModel> Teacher = new("the teacher model (the model before pruning and quantization)");

    /// <summary>Each layer's input second moments, measured on the float model (from <see cref="CaptureLayerInputsPass"/>); quantizers and pruning round and prune with them.</summary>
    public static readonly PassData<LayerwiseReconstruction> LayerStatistics = new("the layers' input statistics (layer-wise reconstruction)");
}
