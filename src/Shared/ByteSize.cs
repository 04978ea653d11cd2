using System;
using System.Globalization;

namespace ModelShrink.Shared
{
    /// <summary>
    /// Sizes as users type them: a number and a unit, no space: <c>20MB</c>; 1 KB = 1024 B.
    /// Also compiled into the netstandard2.0 MSBuild task (for the project-wide budget), so it is
    /// written without newer language or library features.
    /// </summary>
    public static class ByteSize
    {
        private static readonly string[] UnitNames = { "GB", "MB", "KB", "B" };
        private static readonly long[] UnitFactors = { 1L << 30, 1L << 20, 1L << 10, 1 };

        /// <summary>Parses <paramref name="text"/>; false when it is not a number followed by B, KB, MB or GB.</summary>
        public static bool TryParse(string text, out long bytes)
        {
            bytes = 0;
            var trimmed = text.Trim();
            for (var u = 0; u < UnitNames.Length; u++)
            {
                if (!trimmed.EndsWith(UnitNames[u], StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var number = trimmed.Substring(0, trimmed.Length - UnitNames[u].Length);
                if (number.Length > 0 && !char.IsWhiteSpace(number[number.Length - 1])
                    && double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                    && value >= 0 && value * UnitFactors[u] < long.MaxValue)
                {
                    bytes = (long)Math.Round(value * UnitFactors[u]);
                    return true;
                }

                return false;
            }

            return false;
        }

        /// <summary>
        /// Like <see cref="Format"/>, but rounded up, so that the text parsed back is at least
        /// <paramref name="bytes"/>: a budget raised to it holds (187.21KB of 191703 B is 187.22KB).
        /// </summary>
        public static string FormatAtLeast(long bytes)
        {
            for (var u = 0; u < UnitNames.Length; u++)
            {
                if (bytes >= UnitFactors[u] && UnitFactors[u] != 1)
                {
                    return (Math.Ceiling(bytes * 100.0 / UnitFactors[u]) / 100).ToString("0.##", CultureInfo.InvariantCulture) + UnitNames[u];
                }
            }

            return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        }

        /// <summary>Formats bytes in the largest unit that keeps the number at least 1 (e.g. <c>5.2MB</c>).</summary>
        public static string Format(long bytes)
        {
            for (var u = 0; u < UnitNames.Length; u++)
            {
                if (bytes >= UnitFactors[u] || UnitFactors[u] == 1)
                {
                    return (bytes / (double)UnitFactors[u]).ToString(UnitFactors[u] == 1 ? "0" : "0.##", CultureInfo.InvariantCulture) + UnitNames[u];
                }
            }

            return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        }
    }
}
