using System;

namespace ModelShrink.Runtime
{
    /// <summary>A runtime config that cannot be used: missing, malformed, or naming options this helper does not know.</summary>
    public sealed class ModelRuntimeException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public ModelRuntimeException(string message, Exception? inner = null)
            : base(message, inner)
        {
        }
    }
}
