using Npgsql;

namespace CryptoPay.Grains.Storage;

/// <summary>
/// Group commit for <see cref="PostgresProjectedGrainStorage"/>: statements issued while earlier ones are on their way
/// to PostgreSQL go together, as one <see cref="NpgsqlBatch"/> — one round trip, one implicit transaction, one commit
/// and WAL flush for all of them. At most <see cref="MaxBatchesInFlight"/> batches are sent at a time; a statement
/// issued while one of those slots is free is sent at once, so a lone read or write waits for nothing, and the busier
/// the store, the larger the batches.
/// <para>
/// A batch commits all of its statements or none (PostgreSQL skips the rest of a batch after an error and rolls back
/// what ran before it). When PostgreSQL refuses a statement of a batch, nothing of the batch was written, and each
/// statement is sent again on its own, so only the refused one fails. Any other failure (the connection lost, the
/// server unreachable) fails every statement of the batch with it, as it would have failed each one alone.
/// </para>
/// </summary>
public sealed class StatementBatcher(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Batches sent at the same time; more statements wait and go together in the next batch. Measured on 2 cores
    /// (docs/BENCHMARKS.md): 4 left the machine 53–82 % busy during a block's deposits (~980/s), 8 kept it 82–89 % busy
    /// (~1,260/s), 16 made smaller batches and more transactions (~1,090/s).
    /// </summary>
    public const int MaxBatchesInFlight = 8;

    /// <summary>Statements per batch at most.</summary>
    public const int MaxStatements = 128;

    private readonly Lock gate = new();
    private readonly Queue<Statement> queue = new();
    private int inFlight;

    /// <summary>
    /// Runs the statement <paramref name="command"/> creates (called again when the statement is sent a second time,
    /// so it must build fresh parameters) and reads its one result set with <paramref name="read"/>.
    /// </summary>
    public Task<T> ExecuteAsync<T>(Func<NpgsqlBatchCommand> command, Func<NpgsqlDataReader, Task<T>> read)
    {
        var statement = new Statement<T>(command, read);
        bool start;
        lock (gate)
        {
            queue.Enqueue(statement);
            start = inFlight < MaxBatchesInFlight;
            if (start)
            {
                inFlight++;
            }
        }

        if (start)
        {
            // Off the caller's scheduler (a grain's): the batch's awaits must not queue behind the grain's turns.
            _ = Task.Run(SendQueuedAsync);
        }

        return statement.Result;
    }

    private async Task SendQueuedAsync()
    {
        while (true)
        {
            Statement[] batch;
            lock (gate)
            {
                if (queue.Count == 0)
                {
                    inFlight--;
                    return;
                }

                batch = new Statement[Math.Min(queue.Count, MaxStatements)];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = queue.Dequeue();
                }
            }

            await SendAsync(batch);
        }
    }

    private async Task SendAsync(Statement[] statements)
    {
        try
        {
            await using (var connection = await dataSource.OpenConnectionAsync())
            await using (var batch = connection.CreateBatch())
            {
                foreach (var statement in statements)
                {
                    batch.BatchCommands.Add(statement.Command());
                }

                // Prepared on each pooled connection once (a round trip of its own, before anything runs), then reused:
                // PostgreSQL no longer parses and plans every statement. Explicitly, not by auto-prepare, whose Parse
                // messages travel inside the batch and were left out of step by a refused statement (npgsql#6391).
                await batch.PrepareAsync();
                await using var reader = await batch.ExecuteReaderAsync();
                for (var i = 0; i < statements.Length; i++)
                {
                    if (i > 0 && !await reader.NextResultAsync())
                    {
                        throw new InvalidOperationException($"Statement {i + 1} of a batch of {statements.Length} returned no result set.");
                    }

                    await statements[i].ReadAsync(reader);
                }

                // Through the end of the batch: its commit, and the error of any statement after the last result read.
                while (await reader.NextResultAsync())
                {
                }
            }

            foreach (var statement in statements)
            {
                statement.Complete();
            }
        }
        catch (PostgresException) when (statements.Length > 1)
        {
            // The whole batch was rolled back: each statement again, alone, so only the refused one fails.
            foreach (var statement in statements)
            {
                await SendAsync([statement]);
            }
        }
        catch (Exception error)
        {
            foreach (var statement in statements)
            {
                statement.Fail(error);
            }
        }
    }

    private abstract class Statement(Func<NpgsqlBatchCommand> command)
    {
        public Func<NpgsqlBatchCommand> Command { get; } = command;

        public abstract Task ReadAsync(NpgsqlDataReader reader);

        public abstract void Complete();

        public abstract void Fail(Exception error);
    }

    private sealed class Statement<T>(Func<NpgsqlBatchCommand> command, Func<NpgsqlDataReader, Task<T>> read) : Statement(command)
    {
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? value;

        public Task<T> Result => completion.Task;

        public override async Task ReadAsync(NpgsqlDataReader reader) => value = await read(reader);

        public override void Complete() => completion.TrySetResult(value!);

        public override void Fail(Exception error) => completion.TrySetException(error);
    }
}
