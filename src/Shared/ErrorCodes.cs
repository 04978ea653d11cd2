namespace ModelShrink.Shared;

/// <summary>
/// Every diagnostic code the engine emits. The README's error table documents each one; codes are
/// never reused or renumbered. MSH1xxx: reading and writing models and arguments; MSH2xxx: the
/// engine's passes; MSH3xxx: build requests, item settings and budgets; MSH4xxx: holdout data,
/// validation and accuracy budgets.
/// </summary>
public static class ErrorCodes
{
    /// <summary>An unexpected internal failure (a bug): the message names the exception type.</summary>
    public const string Internal = "MSH1000";

    /// <summary>The model file does not exist or cannot be opened.</summary>
    public const string ModelNotFound = "MSH1001";

    /// <summary>The model file is empty.</summary>
    public const string ModelEmpty = "MSH1002";

    /// <summary>The file is not an ONNX model (protobuf that does not parse, or no graph).</summary>
    public const string ModelNotOnnx = "MSH1003";

    /// <summary>The file ends inside a message, or a length field points past the end of the file.</summary>
    public const string ModelTruncated = "MSH1004";

    /// <summary>Messages or subgraphs are nested deeper than the reader allows.</summary>
    public const string ModelTooDeep = "MSH1005";

    /// <summary>A tensor's external-data file is missing.</summary>
    public const string ExternalDataMissing = "MSH1006";

    /// <summary>A tensor's external-data location leaves the model's folder (absolute, '..', link).</summary>
    public const string ExternalDataUnsafePath = "MSH1007";

    /// <summary>A tensor's external-data offset/length lies outside its file, or its entries are malformed.</summary>
    public const string ExternalDataRange = "MSH1008";

    /// <summary>The graph is malformed: an undefined input, a value produced twice, or a cycle.</summary>
    public const string InvalidGraph = "MSH1009";

    /// <summary>A tensor's data does not match its shape and data type.</summary>
    public const string InvalidTensor = "MSH1010";

    /// <summary>A tensor's data type is unknown or not supported by the requested operation.</summary>
    public const string UnsupportedDataType = "MSH1011";

    /// <summary>The model would exceed protobuf's 2 GB limit; external data is required.</summary>
    public const string ModelTooLarge = "MSH1012";

    /// <summary>An output file could not be written.</summary>
    public const string WriteFailed = "MSH1013";

    /// <summary>A command-line argument or option value is invalid.</summary>
    public const string InvalidArgument = "MSH1014";

    /// <summary>An input (the model, a holdout or external-data file) is a FIFO, device or socket, not a regular file; it is refused before it is opened.</summary>
    public const string InputNotRegularFile = "MSH1015";

    /// <summary>The output path is a device, FIFO, socket or other special file; it is never replaced.</summary>
    public const string OutputNotRegularFile = "MSH1016";

    /// <summary>The output path is empty or not a valid path.</summary>
    public const string OutputPathInvalid = "MSH1017";

    /// <summary>The output path is an existing folder.</summary>
    public const string OutputIsFolder = "MSH1018";

    /// <summary>The output's folder cannot be written (read-only, no permission, or it cannot be created).</summary>
    public const string OutputFolderNotWritable = "MSH1019";

    /// <summary>The output path lies in a kernel pseudo file system (/proc, /sys, /dev), where no model belongs.</summary>
    public const string OutputInSystemFolder = "MSH1020";

    /// <summary>Another modelshrink run is writing the same output path; this run wrote nothing.</summary>
    public const string OutputBusy = "MSH1021";

    /// <summary>The run was interrupted (SIGINT/Ctrl+C or SIGTERM); its partial output was removed and nothing was written.</summary>
    public const string Interrupted = "MSH1022";

    /// <summary>The compressed model does not load in ONNX Runtime (CPU); nothing was written.</summary>
    public const string OutputDoesNotLoad = "MSH1023";

    /// <summary>A pass failed unexpectedly; the message names the pass and those run before it.</summary>
    public const string PassFailed = "MSH2000";

    /// <summary>The model cannot be processed in the requested mode (an op or opset the pass cannot handle).</summary>
    public const string UnsupportedModel = "MSH2001";

    /// <summary>The opset upgrade cannot rewrite an operator between the two opsets (the message names the op and both opsets).</summary>
    public const string OpsetUpgradeUnsupported = "MSH2101";

    /// <summary>The requested target opset, or the model's own opset, is outside the range the opset upgrade supports.</summary>
    public const string OpsetOutOfRange = "MSH2102";

    /// <summary>Warning: the model's opset is already above the requested target; it is left as it is, never lowered.</summary>
    public const string OpsetNotLowered = "MSH2103";

    /// <summary>Warning: a value's element type could not be inferred; a constant the upgrade created assumes float32.</summary>
    public const string ElementTypeAssumed = "MSH2104";

    /// <summary>ONNX Runtime's offline optimizer refused the model or wrote nothing usable.</summary>
    public const string OrtOptimizerFailed = "MSH2105";

    /// <summary>The build request is unreadable or of an unknown version (a task/engine mismatch).</summary>
    public const string BadRequest = "MSH3000";

    /// <summary>The engine process ended without writing a response (it crashed or was killed); the task reports it.</summary>
    public const string EngineNoResponse = "MSH3003";

    /// <summary>A &lt;CompressModel&gt; item has metadata the engine does not know.</summary>
    public const string UnknownMetadata = "MSH3001";

    /// <summary>A &lt;CompressModel&gt; metadata value or ModelShrink property is invalid.</summary>
    public const string InvalidMetadata = "MSH3002";

    /// <summary>The compressed model is larger than its MaxSize budget.</summary>
    public const string MaxSizeExceeded = "MSH3100";

    /// <summary>The compressed model is larger than MaxSizeRatio times the original.</summary>
    public const string MaxSizeRatioExceeded = "MSH3101";

    /// <summary>The compressed models of a project together exceed ModelShrinkMaxTotalSize (raised by the MSBuild task).</summary>
    public const string MaxTotalSizeExceeded = "MSH3102";

    /// <summary>Warning: a provider is requested whose ONNX Runtime package the app does not reference.</summary>
    public const string ProviderPackageMissing = "MSH3200";

    /// <summary>Warning (GPU validation): the engine's ONNX Runtime has no CUDA provider (the CUDA build was not fetched or loaded); validation stays on the CPU.</summary>
    public const string GpuRuntimeMissing = "MSH3204";

    /// <summary>Warning (GPU validation): no NVIDIA GPU (or no driver) is usable; validation stays on the CPU.</summary>
    public const string GpuNotFound = "MSH3205";

    /// <summary>Warning (GPU validation): the CUDA or cuDNN libraries the CUDA provider loads are missing; validation stays on the CPU.</summary>
    public const string GpuLibrariesMissing = "MSH3206";

    /// <summary>Warning (GPU validation): the NVIDIA driver is older than the CUDA runtime the provider needs; validation stays on the CPU.</summary>
    public const string GpuDriverTooOld = "MSH3207";

    /// <summary>Warning (GPU validation): most of a GPU variant's kernel time ran on the CPU provider (nodes ONNX Runtime could not place on the GPU).</summary>
    public const string GpuComputeOnCpu = "MSH3208";

    /// <summary>The compressed model would need an opset the app's ONNX Runtime version cannot run.</summary>
    public const string OpsetAboveAppRuntime = "MSH3202";

    /// <summary>The compressed model would need a contrib op (MatMulNBits) the app's ONNX Runtime version lacks.</summary>
    public const string ContribOpAboveAppRuntime = "MSH3203";

    /// <summary>Warning: the app's ONNX Runtime version is not a NuGet version; outputs target the engine's.</summary>
    public const string OnnxRuntimeVersionUnreadable = "MSH3201";

    /// <summary>Holdout or calibration data is missing or unreadable (not .npz/.npy/test-data folders, a bad array).</summary>
    public const string HoldoutUnreadable = "MSH4001";

    /// <summary>Holdout data does not fit the model: a missing or extra input, wrong element type or shape.</summary>
    public const string HoldoutMismatch = "MSH4002";

    /// <summary>Holdout labels are malformed or do not match the number of samples.</summary>
    public const string HoldoutLabels = "MSH4003";

    /// <summary>ONNX Runtime cannot load or run the model (original or compressed) on the holdout data.</summary>
    public const string ModelDoesNotRun = "MSH4004";

    /// <summary>The requested output or metric cannot be scored (no such output, no labels, no class axis).</summary>
    public const string ValidationOutput = "MSH4005";

    /// <summary>The original model gives NaN or infinite values on the holdout data, so no metric can compare against it.</summary>
    public const string HoldoutOutputNotFinite = "MSH4006";

    /// <summary>No holdout label matches a class of the scored output (all outside 0..C-1, such as -1), so accuracy cannot be measured.</summary>
    public const string HoldoutLabelsMatchNoClass = "MSH4007";

    /// <summary>The compressed model gives NaN or infinite values on the holdout data where the original's are finite.</summary>
    public const string CandidateOutputNotFinite = "MSH4008";

    /// <summary>The compressed model's headline metric fell further below the original's than MaxAccuracyDrop allows.</summary>
    public const string AccuracyDropExceeded = "MSH4100";

    /// <summary>Top-1 agreement with the original is under MinAgreement.</summary>
    public const string AgreementBelowMinimum = "MSH4101";

    /// <summary>Cosine similarity with the original is under MinCosine.</summary>
    public const string CosineBelowMinimum = "MSH4102";

    /// <summary>Warning (fp16): float32 weights outside float16's range were clamped to its largest finite or smallest positive value.</summary>
    public const string Fp16ValuesClamped = "MSH2300";

    /// <summary>Warning (fp16): a node named in the fp16 node block list is not in the model.</summary>
    public const string Fp16BlockedNodeNotFound = "MSH2301";

    /// <summary>Warning (fp16): a value read by a float16 node has an element type the pass cannot infer (sequence, map, custom op output).</summary>
    public const string Fp16UnknownElementType = "MSH2302";

    /// <summary>Warning (fp16, no data): nodes kept in float32 because float16 cannot hold their weights; activations unchecked.</summary>
    public const string Fp16NodesKeptForRange = "MSH2303";

    /// <summary>Quantize=Auto found no candidate within every budget; the message gives the best size and metric reached.</summary>
    public const string SearchFoundNothing = "MSH4103";

    /// <summary>Warning: Quantize=Auto without holdout data chose by size alone.</summary>
    public const string SearchUnvalidated = "MSH4104";

    /// <summary>Quantization: a weight is also a graph input, so a caller may replace it at run time; it stays float.</summary>
    public const string QuantWeightIsGraphInput = "MSH2200";

    /// <summary>Quantization: a weight cannot be quantized (not float32, NaN or infinite values, unexpected shape); it stays float.</summary>
    public const string QuantWeightSkipped = "MSH2201";

    /// <summary>Quantization: per-channel DequantizeLinear needs opset 13 and the model's opset cannot be raised unchanged; per-tensor was used.</summary>
    public const string QuantPerTensorFallback = "MSH2202";

    /// <summary>Quantization: the model's opset is below 10 and cannot be raised unchanged; com.microsoft.DequantizeLinear (ONNX Runtime only) was used.</summary>
    public const string QuantContribDequantize = "MSH2203";

    /// <summary>Quantization: an option value is invalid (unknown operator type, block size, format).</summary>
    public const string QuantInvalidOption = "MSH2204";

    /// <summary>Quantization: a node named in the exclude or include list does not exist in the model.</summary>
    public const string QuantNodeNotFound = "MSH2205";

    /// <summary>int4: the blocked DequantizeLinear form needs opset 21 and the model's opset cannot be raised unchanged.</summary>
    public const string Int4OpsetTooLow = "MSH2206";

    /// <summary>Quantization: nothing in the model could be quantized; the output equals the input.</summary>
    public const string QuantNothingQuantized = "MSH2207";

    /// <summary>Reconstruction: the teacher model (the original before quantization) was not available to the pass.</summary>
    public const string ReconstructNoTeacher = "MSH2600";

    /// <summary>Warning: bias correction left quantized layers alone (no float bias with one value per channel to shift).</summary>
    public const string ReconstructLayerSkipped = "MSH2601";

    /// <summary>Reconstruction was asked for without data to measure on (give reconstruct data or holdout data), or with quantize mode None.</summary>
    public const string ReconstructNeedsData = "MSH2602";

    /// <summary>Warning: reconstruction was fitted on the holdout data the result is then scored on, so the score is optimistic; name separate reconstruct data.</summary>
    public const string ReconstructOnHoldout = "MSH2603";

    /// <summary>Warning: layers whose input is wider than layer-wise reconstruction measures (H would not fit) keep plain rounding and selection.</summary>
    public const string ReconstructLayerTooWide = "MSH2604";

    /// <summary>Pruning: an option is invalid (sparsity outside 0 to 1, a malformed N:M, an unknown mode, a scope the mode cannot use).</summary>
    public const string PruneInvalidOption = "MSH2400";

    /// <summary>Warning (pruning): the first and last layers were kept dense (the message lists them); turn KeepFirstAndLast off to prune them.</summary>
    public const string PruneEndsKept = "MSH2401";

    /// <summary>Warning (pruning): a node named in the skip list or the per-layer sparsities is not a prunable layer of the model.</summary>
    public const string PruneNodeNotFound = "MSH2402";

    /// <summary>Warning (N:M pruning): a layer's reduction length is not a multiple of M; it was left dense.</summary>
    public const string PruneNmNotDivisible = "MSH2403";

    /// <summary>Warning (channel pruning): a layer's output meets another computed branch (a residual Add) that is not pruned alike; the layer was left alone.</summary>
    public const string PruneChannelsResidual = "MSH2404";

    /// <summary>Warning (channel pruning): a grouped Conv that is not depthwise reads the channels, or the layer is grouped, or depthwise and the layer before it was not pruned; the layer was left alone.</summary>
    public const string PruneChannelsGrouped = "MSH2405";

    /// <summary>Warning (channel pruning): the channels are reshaped before the next layer (Reshape, Transpose, Flatten of unknown size; a Split or Slice along them by computed sizes or bounds, a Slice with a step, an Expand or Tile that repeats them), or go into attention heads in a form head pruning does not recognise (multi-query/grouped-query, a fused attention op); the layer was left alone.</summary>
    public const string PruneChannelsReshaped = "MSH2406";

    /// <summary>Warning (channel pruning): the channels reach a graph output, a subgraph, an op that mixes channels or an op the pass does not know, or the weight is shared; the layer was left alone.</summary>
    public const string PruneChannelsUnsupported = "MSH2407";

    /// <summary>Warning (N:M pruning): N:M fixes the sparsity at (M-N)/M; the sparsity given was ignored.</summary>
    public const string PruneSparsityIgnored = "MSH2408";

    /// <summary>Warning (pruning): no layer could be pruned; the model is unchanged by this pass.</summary>
    public const string PruneNothingPruned = "MSH2409";

    /// <summary>Warning (pruning): a weight is also a graph input, so a caller may replace it at run time; it was left dense.</summary>
    public const string PruneWeightIsGraphInput = "MSH2410";

    /// <summary>Warning: Prune=auto found no sparsity within the accuracy budget; the model is not pruned.</summary>
    public const string PruneSearchFoundNothing = "MSH4105";

    /// <summary>The compressed model's CPU latency, as a ratio to the original's measured beside it, is over MaxLatencyRatio.</summary>
    public const string LatencyRatioExceeded = "MSH4106";

    /// <summary>Warning: a plain mode lost more than its accuracy budget (or, without one, more than 5 points) on the holdout; the message names a better setting (not given beside MSH4108).</summary>
    public const string AccuracyLossHint = "MSH4107";

    /// <summary>Warning: channel pruning without layer-wise refit lost more than its accuracy budget (or, without one, more than 5 points) on the holdout; the message names Reconstruct=Layerwise with ReconstructData.</summary>
    public const string ChannelRefitHint = "MSH4108";

    /// <summary>int8 static quantization: no calibration data was given, or it does not exist.</summary>
    public const string StaticCalibrationMissing = "MSH2500";

    /// <summary>Warning, int8 static quantization: nodes inside If/Loop/Scan bodies stay float (calibration covers the main graph).</summary>
    public const string StaticSubgraphsFloat = "MSH2501";

    /// <summary>int8 static quantization: calibration gave an activation a NaN or infinite range.</summary>
    public const string StaticRangeNotFinite = "MSH2502";

    /// <summary>Warning, int8 static quantization: a node cannot take the fused int8 form (Gemm with alpha or beta other than 1 and a bias, a bias of another shape) and stays float.</summary>
    public const string StaticNodeKeptFloat = "MSH2503";

    /// <summary>Warning, int8 static quantization: a bias value does not fit int32 at input scale x weight scale and was clamped.</summary>
    public const string StaticBiasClamped = "MSH2504";

    /// <summary>Warning, int8 static quantization: with int8 activations, quantized outputs with several readers keep ONNX Runtime on x64 from fusing the nodes that compute them.</summary>
    public const string StaticInt8SharedOutputs = "MSH2505";

    /// <summary>Warning, int8 static quantization: no calibration data was named, so the holdout data calibrates (its measured accuracy may be optimistic).</summary>
    public const string StaticCalibratedOnHoldout = "MSH2506";
}
