using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Reconstruction;

/// <summary>Captures the model, as it is at this point of the pipeline, as the teacher of later reconstruction passes.</summary>
public sealed class TeacherSnapshotPass : IPass
{
    /// <inheritdoc/>
    public string Name => "capture-teacher";

    /// <inheritdoc/>
    public IReadOnlyList<PassData> Provides => [SharedPassData.Teacher];

    /// <inheritdoc/>
    public PassResult Run(Model model, PassContext context)
    {
        var teacher = new TeacherModel();
        teacher.Capture(model);
        context.Set(SharedPassData.Teacher, teacher);
        return PassResult.Unchanged;
    }
}
