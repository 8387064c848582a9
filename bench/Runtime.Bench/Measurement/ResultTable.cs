using System.Text;

namespace CryptoPay.Runtime.Bench.Measurement;

/// <summary>One printed figure with what it is compared to.</summary>
internal sealed record ResultRow(string Scenario, string Figure, string Measured, string Baseline, string Ratio, string Target, string Verdict);

/// <summary>The summary table: every figure next to its baseline, the ratio and the verdict.</summary>
internal sealed class ResultTable
{
    private static readonly string[] Headers = ["#", "figure", "measured", "baseline", "ratio", "target", "verdict"];
    private readonly List<ResultRow> rows = [];

    public IReadOnlyList<ResultRow> Rows => rows;

    public void Add(ResultRow row) => rows.Add(row);

    public string Render()
    {
        var cells = rows.Select(r => new[] { r.Scenario, r.Figure, r.Measured, r.Baseline, r.Ratio, r.Target, r.Verdict }).ToList();
        var widths = Headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(IReadOnlyList<string> values)
        {
            text.Append("| ");
            for (var i = 0; i < values.Count; i++)
            {
                // Numbers read best right-aligned; words left-aligned.
                var rightAlign = i is 2 or 3 or 4;
                text.Append(rightAlign ? values[i].PadLeft(widths[i]) : values[i].PadRight(widths[i])).Append(" | ");
            }

            text.Length -= 1;
            text.AppendLine();
        }

        Line(Headers);
        text.Append('|');
        for (var i = 0; i < widths.Length; i++)
        {
            var isRight = i is 2 or 3 or 4;
            text.Append(' ').Append(new string('-', widths[i] - (isRight ? 1 : 0))).Append(isRight ? ":" : "").Append(" |");
        }

        text.AppendLine();
        foreach (var row in cells)
        {
            Line(row);
        }

        return text.ToString();
    }
}
