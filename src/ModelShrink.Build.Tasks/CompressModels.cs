using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using ModelShrink.Shared;
using ModelShrink.Build.Tasks.Protocol;
using ModelShrink.Shared.Contracts;

namespace ModelShrink.Build.Tasks
{
    /// <summary>
    /// Runs the engine out of process on the out-of-date &lt;CompressModel&gt; items: writes a request
    /// file, starts <c>dotnet modelshrink.dll run-request</c> with the SDK's own dotnet, and turns
    /// the response into MSBuild errors, warnings and a summary line per model. ONNX Runtime and
    /// protobuf never load into the build process (DESIGN.md, "Out of process").
    /// </summary>
    public sealed class CompressModels : ToolTask
    {
        /// <summary>The prepared items to process (see <see cref="PrepareModels"/>).</summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The project file; diagnostics point at it.</summary>
        [Required]
        public string ProjectFile { get; set; } = "";

        /// <summary>The engine's modelshrink.dll.</summary>
        [Required]
        public string EnginePath { get; set; } = "";

        /// <summary>The request file to write.</summary>
        [Required]
        public string RequestFile { get; set; } = "";

        /// <summary>The SDK's dotnet ($(DOTNET_HOST_PATH)); "dotnet" from PATH when empty.</summary>
        public string DotnetHostPath { get; set; } = "";

        /// <summary>The app's ONNX Runtime version.</summary>
        public string OnnxRuntimeVersion { get; set; } = "";

        /// <summary>The ONNX Runtime packages the app references (item specs are package ids).</summary>
        public ITaskItem[] OnnxRuntimePackages { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The folder holding ONNX Runtime's native library for this machine (from the NuGet cache).</summary>
        public string OnnxRuntimeNativeDirectory { get; set; } = "";

        /// <summary>$(ModelShrinkHelpLinkBase): the page each code's help link points into (see <see cref="HelpLinks"/>).</summary>
        public string HelpLinkBase { get; set; } = "";

        /// <summary>$(ModelShrinkGpuValidation): validate CUDA variants on the GPU (the targets then point <see cref="OnnxRuntimeNativeDirectory"/> at ONNX Runtime's CUDA build).</summary>
        public bool GpuValidation { get; set; }

        /// <inheritdoc />
        protected override string ToolName => "dotnet";

        /// <inheritdoc />
        protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Low;

        /// <summary>
        /// The engine's "ModelShrink: ..." lines (a long search's steps) are shown at high importance, so
        /// a build at default verbosity is not silent for minutes; anything else it prints stays low.
        /// </summary>
        protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
        {
            if (singleLine.StartsWith("ModelShrink: ", StringComparison.Ordinal))
            {
                Log.LogMessage(MessageImportance.High, singleLine);
                return;
            }

            base.LogEventsFromTextOutput(singleLine, messageImportance);
        }

        private string ResponseFile => Path.ChangeExtension(RequestFile, ".response.json");

        /// <inheritdoc />
        public override bool Execute()
        {
            if (Models.Length == 0)
            {
                return true;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(RequestFile)!);
            File.Delete(ResponseFile);
            JsonFile.Write(RequestFile, Request());
            if (!string.IsNullOrEmpty(OnnxRuntimeNativeDirectory))
            {
                EnvironmentVariables = new[] { "MODELSHRINK_ORT_NATIVE_DIR=" + OnnxRuntimeNativeDirectory };
            }

            var ran = base.Execute();
            if (!File.Exists(ResponseFile))
            {
                if (ran && !Log.HasLoggedErrors)
                {
                    HelpLinks.Log(Log, true, ErrorCodes.EngineNoResponse, ProjectFile, "the ModelShrink engine wrote no response (it crashed or was killed; its output is above)", HelpLinkBase);
                }

                return false;
            }

            Report(JsonFile.Read<BuildResponse>(ResponseFile));
            return !Log.HasLoggedErrors;
        }

        /// <inheritdoc />
        protected override string GenerateFullPathToTool() =>
            string.IsNullOrEmpty(DotnetHostPath) ? ToolName : DotnetHostPath;

        /// <inheritdoc />
        protected override string GenerateCommandLineCommands()
        {
            var builder = new CommandLineBuilder();
            builder.AppendFileNameIfNotNull(EnginePath);
            builder.AppendSwitch("run-request");
            builder.AppendFileNameIfNotNull(RequestFile);
            builder.AppendSwitch("--response");
            builder.AppendFileNameIfNotNull(ResponseFile);
            return builder.ToString();
        }

        private BuildRequest Request()
        {
            var request = new BuildRequest
            {
                ProjectFile = ProjectFile,
                OnnxRuntimeVersion = OnnxRuntimeVersion,
                OnnxRuntimePackages = OnnxRuntimePackages.Select(p => p.ItemSpec).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
                GpuValidation = GpuValidation,
            };
            foreach (var model in Models)
            {
                var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                var custom = model.CloneCustomMetadata();
                foreach (DictionaryEntry entry in custom)
                {
                    var name = (string)entry.Key;
                    if (!InternalMetadata.Contains(name))
                    {
                        metadata[name] = (string)entry.Value!;
                    }
                }

                request.Items.Add(new BuildRequestItem
                {
                    ItemSpec = model.ItemSpec,
                    Source = model.GetMetadata("FullPath"),
                    OutputDirectory = model.GetMetadata("ItemFolder"),
                    Metadata = metadata,
                });
            }

            return request;
        }

        private void Report(BuildResponse response)
        {
            LogDiagnostics(response);

            foreach (var item in response.Items.Where(i => i.Succeeded))
            {
                // High: shown at the default (minimal) verbosity, once per model the engine processed; a no-op build runs no engine and says nothing.
                Log.LogMessage(MessageImportance.High, "ModelShrink: " + item.Summary);
                var model = Models.FirstOrDefault(m => m.ItemSpec == item.ItemSpec);
                var stamp = model?.GetMetadata("StampFile");
                if (!string.IsNullOrEmpty(stamp))
                {
                    File.WriteAllText(stamp, item.Summary);
                }
            }

            // A failed item has no summary line; its report says what was tried and which budget broke.
            foreach (var item in response.Items.Where(i => !i.Succeeded && !string.IsNullOrEmpty(i.Report)))
            {
                Log.LogMessage(MessageImportance.High, "ModelShrink: " + item.ItemSpec + ": report " + item.Report);
            }
        }

        /// <summary>The response's errors and warnings, each with its code, the project file and its help link.</summary>
        internal void LogDiagnostics(BuildResponse response)
        {
            foreach (var diagnostic in response.Diagnostics)
            {
                var message = string.IsNullOrEmpty(diagnostic.Setting) ? diagnostic.Message : $"{diagnostic.Message} (setting: {diagnostic.Setting})";
                HelpLinks.Log(Log, diagnostic.Severity != "warning", diagnostic.Code, ProjectFile, message, HelpLinkBase);
            }
        }

        // Metadata MSBuild and PrepareModels add for the targets; the engine must not see it as user metadata.
        private static readonly HashSet<string> InternalMetadata = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "ItemFolder", "SettingsFile", "StampFile", "ResolvedOutputName", "AppSubdirectory", "OriginalItemSpec",
        };
    }
}
