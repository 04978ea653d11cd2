using System;

namespace ModelShrink.Shared.Settings
{
    /// <summary>Where a user can give a setting.</summary>
    [Flags]
    public enum SettingSurface
    {
        /// <summary>&lt;CompressModel&gt; metadata, and the project-wide property ModelShrink&lt;Name&gt; that defaults it.</summary>
        Item = 1,

        /// <summary>The <c>modelshrink compress</c> option <c>--kebab-case-name</c>.</summary>
        Cli = 2,

        /// <summary>Both.</summary>
        Both = Item | Cli,
    }
}
