using ModelShrink.Shared;
using System;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace ModelShrink.Build.Tasks
{
    /// <summary>
    /// The project-wide size budget (ModelShrinkMaxTotalSize): the models of every &lt;CompressModel&gt;
    /// item together, counted from their output folders so up-to-date items count too. In process
    /// and cheap: it reads file sizes only.
    /// </summary>
    public sealed class CheckTotalModelSize : Task
    {
        /// <summary>The prepared items (with ItemFolder metadata).</summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The budget as typed, e.g. <c>50MB</c>.</summary>
        [Required]
        public string MaxTotalSize { get; set; } = "";

        /// <summary>Error (default) or Warning.</summary>
        public string Severity { get; set; } = "";

        /// <summary>$(ModelShrinkHelpLinkBase): the page each code's help link points into.</summary>
        public string HelpLinkBase { get; set; } = "";

        /// <summary>The project file, which the diagnostic points at.</summary>
        [Required]
        public string ProjectFile { get; set; } = "";

        /// <inheritdoc />
        public override bool Execute()
        {
            if (!ByteSize.TryParse(MaxTotalSize, out var limit))
            {
                HelpLinks.Log(Log, true, ErrorCodes.InvalidMetadata, ProjectFile,
                    $"ModelShrinkMaxTotalSize: '{MaxTotalSize}' is not a size such as 50MB (units B, KB, MB, GB; 1 KB = 1024 B; no space) (setting: ModelShrinkMaxTotalSize)", HelpLinkBase);
                return false;
            }

            var sizes = Models
                .Select(m => (Item: m.ItemSpec, Bytes: ModelBytes(m.GetMetadata("ItemFolder"))))
                .OrderByDescending(s => s.Bytes)
                .ToArray();
            var total = sizes.Sum(s => s.Bytes);
            if (total <= limit)
            {
                return true;
            }

            var largest = string.Join(", ", sizes.Take(3).Select(s => $"{s.Item} {ByteSize.Format(s.Bytes)}"));
            var warning = string.Equals(Severity, "Warning", StringComparison.OrdinalIgnoreCase);
            // The gap, and what closes it: the budget that would hold, a smaller largest model, or a warning.
            var waysOut = $"raise ModelShrinkMaxTotalSize to {ByteSize.FormatAtLeast(total)}, or shrink {sizes[0].Item} by {ByteSize.Format(total - limit)} (a smaller Quantize such as Int8 or Int4, Prune, or its own MaxSize)"
                + (warning ? "" : ", or set ModelShrinkBudgetSeverity=Warning to place them anyway");
            var message = $"the compressed models total {ByteSize.Format(total)}, over the ModelShrinkMaxTotalSize budget of {ByteSize.Format(limit)} by {ByteSize.Format(total - limit)}; largest: {largest}; ways out: {waysOut} (setting: ModelShrinkMaxTotalSize)";
            HelpLinks.Log(Log, !warning, ErrorCodes.MaxTotalSizeExceeded, ProjectFile, message, HelpLinkBase);
            return warning;
        }

        // Model files and their external data; runtime configs and reports are not model bytes.
        private static long ModelBytes(string folder) =>
            Directory.Exists(folder)
                ? new DirectoryInfo(folder).GetFiles()
                    .Where(f => f.Name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || f.Name.EndsWith(".data", StringComparison.OrdinalIgnoreCase))
                    .Sum(f => f.Length)
                : 0;
    }
}
