using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using ModelShrink.Shared.Settings;

namespace ModelShrink.Build.Tasks
{
    /// <summary>
    /// In-process and cheap (no engine): gives each &lt;CompressModel&gt; item its intermediate folder
    /// and a settings file that records the item's settings, the engine and the app's ONNX Runtime
    /// version. When that record changes the item's stamp is deleted; with the model as the only
    /// input and the stamp as the output, MSBuild's partial build then reprocesses exactly the items
    /// whose model or settings changed. (A second input vector would make MSBuild compare it against
    /// every output and rebuild all items.)
    /// </summary>
    public sealed class PrepareModels : Task
    {
        /// <summary>The &lt;CompressModel&gt; items.</summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The project's folder.</summary>
        [Required]
        public string ProjectDirectory { get; set; } = "";

        /// <summary>Where per-item folders go (under obj/).</summary>
        [Required]
        public string IntermediateDirectory { get; set; } = "";

        /// <summary>The engine's modelshrink.dll; its folder's newest file time is part of every settings file.</summary>
        [Required]
        public string EnginePath { get; set; } = "";

        /// <summary>The app's ONNX Runtime version.</summary>
        public string OnnxRuntimeVersion { get; set; } = "";

        /// <summary>$(ModelShrinkGpuValidation): it changes which CUDA variant is chosen, so it is part of every settings record.</summary>
        public bool GpuValidation { get; set; }

        /// <summary>The items with ItemFolder, SettingsFile, StampFile, OutputName and AppSubdirectory metadata.</summary>
        [Output]
        public ITaskItem[] PreparedModels { get; set; } = Array.Empty<ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            var engineStamp = EngineStamp();
            var prepared = new List<ITaskItem>();
            foreach (var model in Models)
            {
                var source = model.GetMetadata("FullPath");
                var outputName = ModelItemLayout.OutputName(model.GetMetadata("OutputName"), source);
                var folder = Path.Combine(IntermediateDirectory, ModelItemLayout.ItemFolderName(source, outputName));
                var settingsFile = folder + ".settings";
                var stampFile = folder + ".stamp";
                if (WriteIfChanged(settingsFile, Settings(model, source, engineStamp)))
                {
                    // Settings changed: the missing stamp makes MSBuild reprocess this item alone.
                    File.Delete(stampFile);
                }

                var item = new TaskItem(model);
                item.SetMetadata("ItemFolder", folder);
                item.SetMetadata("SettingsFile", settingsFile);
                item.SetMetadata("StampFile", stampFile);
                item.SetMetadata("ResolvedOutputName", outputName);
                item.SetMetadata("AppSubdirectory", ModelItemLayout.AppSubdirectory(ProjectDirectory, source, model.GetMetadata("Link")));
                prepared.Add(item);
            }

            PreparedModels = prepared.ToArray();
            return !Log.HasLoggedErrors;
        }

        // A new package version moves the engine; a local re-pack of the same version changes its files' times.
        private string EngineStamp()
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(EnginePath))!;
            var newest = Directory.Exists(directory)
                ? Directory.GetFiles(directory).Select(File.GetLastWriteTimeUtc).DefaultIfEmpty().Max()
                : default;
            return EnginePath + "|" + newest.Ticks;
        }

        private string Settings(ITaskItem model, string source, string engineStamp)
        {
            var text = new StringBuilder();
            text.AppendLine("engine=" + engineStamp);
            text.AppendLine("onnxruntime=" + OnnxRuntimeVersion);
            text.AppendLine("gpu-validation=" + GpuValidation);
            text.AppendLine("source=" + source);
            var metadata = model.CloneCustomMetadata();
            foreach (var name in metadata.Keys.Cast<string>().OrderBy(n => n, StringComparer.OrdinalIgnoreCase))
            {
                text.AppendLine(name + "=" + metadata[name]);
            }

            // Data a setting names (holdout, calibration, reconstruction data) changes the measured
            // accuracy, the int8 ranges or the repaired weights: its files are part of the record.
            foreach (var setting in SettingCatalog.DataSettings)
            {
                var path = model.GetMetadata(setting.Name);
                if (!string.IsNullOrWhiteSpace(path))
                {
                    text.AppendLine(setting.Name + "-files=" + DataFingerprint(Path.Combine(ProjectDirectory, path.Trim())));
                }
            }

            return text.ToString();
        }

        // Names, sizes and write times of the data files: cheap, and any edit changes it.
        private static string DataFingerprint(string path)
        {
            var files = File.Exists(path)
                ? new[] { new FileInfo(path) }
                : Directory.Exists(path)
                    ? new DirectoryInfo(path).GetFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal).ToArray()
                    : Array.Empty<FileInfo>();
            var text = new StringBuilder();
            foreach (var file in files)
            {
                text.Append(file.FullName).Append('|').Append(file.Length).Append('|').Append(file.LastWriteTimeUtc.Ticks).Append(';');
            }

            using (var sha = System.Security.Cryptography.SHA256.Create())
            {
                var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(text.ToString()));
                return files.Length + " files, " + BitConverter.ToString(hash, 0, 8).Replace("-", "").ToLowerInvariant();
            }
        }

        // Rewriting an unchanged file would bump its timestamp; returns whether the content changed.
        private static bool WriteIfChanged(string path, string content)
        {
            if (File.Exists(path) && File.ReadAllText(path) == content)
            {
                return false;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
            return true;
        }
    }
}
