using System;
using System.IO;
using Microsoft.Build.Utilities;

namespace ModelShrink.Build.Tasks
{
    /// <summary>
    /// Each MSH code's help link: its row in the README's "Error codes" table (anchor <c>#msh3100</c>),
    /// which the IDE shows as the code's link. The base is $(ModelShrinkHelpLinkBase): by default the
    /// README packed inside the package (a file URI), or a web page once the project has one.
    /// </summary>
    public static class HelpLinks
    {
        /// <summary>The link for <paramref name="code"/> under <paramref name="baseLink"/> (a path or an absolute URL); null without a base.</summary>
        public static string? For(string? baseLink, string code)
        {
            if (string.IsNullOrEmpty(baseLink) || string.IsNullOrEmpty(code))
            {
                return null;
            }

            var page = Path.IsPathRooted(baseLink) ? new Uri(Path.GetFullPath(baseLink)).AbsoluteUri : baseLink!;
            return page + "#" + code.ToLowerInvariant();
        }

        /// <summary>Logs an error or a warning with its code, file and help link.</summary>
        public static void Log(TaskLoggingHelper log, bool error, string code, string file, string message, string? baseLink)
        {
            var link = For(baseLink, code);
            if (error)
            {
                log.LogError("ModelShrink", code, null, link, file, 0, 0, 0, 0, message);
            }
            else
            {
                log.LogWarning("ModelShrink", code, null, link, file, 0, 0, 0, 0, message);
            }
        }
    }
}
