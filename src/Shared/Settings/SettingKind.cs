namespace ModelShrink.Shared.Settings
{
    /// <summary>What kind of value a setting takes; decides how it is parsed, shown and typed on the command line.</summary>
    public enum SettingKind
    {
        /// <summary>One of <see cref="Setting.Choices"/>, case-insensitive.</summary>
        Choice,

        /// <summary>true or false; on the command line a bare flag means true.</summary>
        Switch,

        /// <summary>A decimal number (invariant culture).</summary>
        Number,

        /// <summary>A whole number.</summary>
        Integer,

        /// <summary>A size such as 20MB (B, KB, MB, GB; 1 KB = 1024 B).</summary>
        Size,

        /// <summary>A file or folder, relative to the project (metadata) or the working folder (command line).</summary>
        Path,

        /// <summary>Free text with its own syntax, given in the help.</summary>
        Text,

        /// <summary>Several values, separated by ',' or ';' (on the command line also by spaces).</summary>
        List,
    }
}
