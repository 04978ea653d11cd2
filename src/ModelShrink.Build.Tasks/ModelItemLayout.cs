using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace ModelShrink.Build.Tasks
{
    /// <summary>
    /// Where one &lt;CompressModel&gt; item's intermediate files live and where its outputs go in
    /// the app: plain logic, tested without MSBuild.
    /// </summary>
    public static class ModelItemLayout
    {
        /// <summary>
        /// A folder name unique to the item within the project: the output name plus a short hash of
        /// the source's full path, so two models with the same file name never share a folder.
        /// </summary>
        public static string ItemFolderName(string sourceFullPath, string outputName)
        {
            using (var sha = SHA256.Create())
            {
                var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(sourceFullPath));
                return outputName + "-" + BitConverter.ToString(hash, 0, 4).Replace("-", "").ToLowerInvariant();
            }
        }

        /// <summary>
        /// The folder, relative to the app's output, where the item's outputs go: the folder of the
        /// item's <c>Link</c> when it has one (as for any linked file), else the source's folder
        /// relative to the project when it lies inside the project, else the output root.
        /// </summary>
        public static string AppSubdirectory(string projectDirectory, string sourceFullPath, string link = "")
        {
            if (!string.IsNullOrWhiteSpace(link))
            {
                var folder = Path.GetDirectoryName(link.Trim().Replace('\\', Path.DirectorySeparatorChar).Replace('/', Path.DirectorySeparatorChar)) ?? "";
                return folder.Length == 0 || Path.IsPathRooted(folder) || folder.Split(Path.DirectorySeparatorChar).Contains("..")
                    ? ""
                    : EnsureTrailingSeparator(folder);
            }

            var project = EnsureTrailingSeparator(Path.GetFullPath(projectDirectory));
            var sourceDirectory = EnsureTrailingSeparator(Path.GetDirectoryName(Path.GetFullPath(sourceFullPath)) ?? "");
            var comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            return sourceDirectory.StartsWith(project, comparison) ? sourceDirectory.Substring(project.Length) : "";
        }

        /// <summary>The output name: the OutputName metadata when set, else the source file name without extension.</summary>
        public static string OutputName(string outputNameMetadata, string sourceFullPath) =>
            string.IsNullOrWhiteSpace(outputNameMetadata) ? Path.GetFileNameWithoutExtension(sourceFullPath) : outputNameMetadata.Trim();

        private static string EnsureTrailingSeparator(string path) =>
            path.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? path : path + Path.DirectorySeparatorChar;
    }
}
