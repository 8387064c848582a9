using System.Reflection;
using System.Text;
using Microsoft.Extensions.Options;

namespace CryptoPay.Silo.Hosting;

/// <summary>Start-up failed for a reason an operator can fix (a setting, the database, the port); the message says which.</summary>
public sealed class SiloStartupException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>Turns a failed start into one line on stderr and a non-zero exit code, instead of a stack trace.</summary>
public static class SiloStartupFailure
{
    public const int ExitCode = 1;

    /// <summary>True for the failures a bad configuration or an unreachable dependency causes at start-up.</summary>
    public static bool IsStartupFailure(Exception error) => error switch
    {
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsStartupFailure),
        SiloStartupException or OptionsValidationException or InvalidOperationException => true,
        FormatException or InvalidDataException or IOException => true,
        _ => false,
    };

    /// <summary>Prints "&lt;program&gt;: start-up failed: &lt;reason&gt;" as one line and returns the exit code.</summary>
    public static int Report(Exception error, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(stderr);
        var program = Assembly.GetEntryAssembly()?.GetName().Name ?? "CryptoPay.Silo";
        stderr.WriteLine($"{program}: start-up failed: {Describe(error)}");
        stderr.Flush();
        return ExitCode;
    }

    /// <summary>The messages of the error and its causes on one line, each cause only when it adds something.</summary>
    public static string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var parts = new List<string>();
        Collect(error, parts);
        return OneLine(string.Join(" <- ", parts));
    }

    private static void Collect(Exception error, List<string> parts)
    {
        if (error is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions)
            {
                Collect(inner, parts);
            }

            return;
        }

        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            var message = OneLine(current.Message);
            if (message.Length > 0 && !parts.Any(p => p.Contains(message, StringComparison.Ordinal)))
            {
                parts.Add(message);
            }
        }
    }

    private static string OneLine(string text)
    {
        var line = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                space = line.Length > 0;
                continue;
            }

            if (space)
            {
                line.Append(' ');
                space = false;
            }

            line.Append(c);
        }

        return line.ToString();
    }
}
