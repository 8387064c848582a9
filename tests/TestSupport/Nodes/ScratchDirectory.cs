namespace CryptoPay.TestSupport.Nodes;

internal static class ScratchDirectory
{
    /// <summary>Deletes the directory tree; false (and no exception) when it cannot, e.g. another sweeper got there first.</summary>
    public static bool TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
