namespace CryptoPay.Runtime.Grains;

/// <summary>The silo is stopping or was killed and accepts no more turns.</summary>
public sealed class SiloUnavailableException(string message) : Exception(message);

/// <summary>A turn could not commit after its retries, because other silos kept changing the same grain.</summary>
public sealed class TurnConflictException(string message) : Exception(message);

/// <summary>A grain or method is used in a way the runtime does not support; a programming error.</summary>
public sealed class GrainUsageException(string message) : Exception(message);
