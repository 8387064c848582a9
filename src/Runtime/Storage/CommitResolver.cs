namespace CryptoPay.Runtime.Storage;

/// <summary>Decides an in-doubt commit from the grain's current version and its recent turn ids; shared by both stores.</summary>
internal static class CommitResolver
{
    public static CommitResolution Resolve(long currentVersion, IReadOnlyCollection<Guid> recentTurns, long expectedVersion, Guid turnId)
    {
        if (recentTurns.Contains(turnId))
        {
            return CommitResolution.Committed;
        }

        // Had it committed, it would be among the ids of every commit since expectedVersion, if the row still holds them all.
        return currentVersion - expectedVersion <= TurnCommit.RecentTurnsKept
            ? CommitResolution.NotCommitted
            : CommitResolution.Unknown;
    }
}
