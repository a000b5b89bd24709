using Hotline.Reports.Facts;

namespace Hotline.Reports.Analysis;

/// <summary>One text to mine, with the category used to map terms back to the tree.</summary>
public sealed record TermDocument(string Id, string Text, string Category);

public sealed record HotTermOptions
{
    /// <summary>Shortest n-gram considered.</summary>
    public int MinLength { get; init; } = 2;

    /// <summary>
    /// Longest n-gram considered. The core is 2–4 characters, but compound topics such as 电动车充电桩 (6)
    /// are only recovered whole if longer grams are allowed; Apriori pruning keeps the cost low.
    /// </summary>
    public int MaxLength { get; init; } = 6;

    /// <summary>Minimum number of documents a term occurs in.</summary>
    public int MinDocuments { get; init; } = 5;

    /// <summary>Minimum cohesion: the weakest split's pointwise mutual information, ln(c(w)·N / (c(a)·c(b))).</summary>
    public double MinPmi { get; init; } = 2.0;

    /// <summary>Minimum of left and right boundary entropy (nats); low means the gram is part of something longer.</summary>
    public double MinBoundaryEntropy { get; init; } = 1.0;

    /// <summary>Terms found in more than this share of documents are boilerplate (来电反映…), not topics.</summary>
    public double MaxDocumentShare { get; init; } = 0.25;

    /// <summary>A shorter term inside a kept longer term is dropped when docs(short) ≤ ratio × docs(long).</summary>
    public double SubTermRatio { get; init; } = 1.5;

    /// <summary>Share of a term's documents in one category needed to map the term to it.</summary>
    public double CategoryShare { get; init; } = 0.6;

    public int Top { get; init; } = 30;

    /// <summary>
    /// Above this many documents, terms are discovered on an evenly spaced sample of this size and the kept terms'
    /// document and occurrence counts are then recounted exactly over all documents. A term frequent enough to be
    /// hot in a million tickets is frequent in any 100,000 of them; mining all of them costs ~15 s of CPU for nothing.
    /// </summary>
    public int MaxMinedDocuments { get; init; } = 100_000;

    public IReadOnlySet<string> StopPhrases { get; init; } = DefaultStopPhrases;

    /// <summary>Characters a term may not start or end with (function words).</summary>
    public string StopEdgeChars { get; init; } = "的了在是和与及或等也都就还又很我你他她它们这那有被把从向对为以于之其将要请能会可个一不到说让给";

    public static IReadOnlySet<string> DefaultStopPhrases { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "市民", "来电", "反映", "来电反映", "市民来电", "市民来电反映", "咨询", "投诉", "举报", "建议", "表扬", "求助", "诉求",
        "希望", "要求", "相关部门", "有关部门", "部门", "尽快", "处理", "解决", "问题", "情况", "表示", "目前", "现在", "已经",
        "没有", "一直", "进行", "工作人员", "附近", "多次", "联系", "电话", "联系电话", "请求", "核实", "协调", "帮助", "关于",
        "如何", "什么", "怎么", "是否", "办理", "我们", "自己", "影响", "严重", "今天", "昨天", "最近", "近期", "期间", "上述",
        "居民", "小区居民", "该小区", "工单", "回复", "答复", "市民表示", "来电人", "该处", "此事", "小区", "街道",
        "社区", "回电号码", "联系方式", "核实处理", "市民来电称", "来电称", "平台", "通过平台",
    };

    // Declared after DefaultStopPhrases: static initialisers run in textual order.
    public static HotTermOptions Default { get; } = new();
}

/// <summary>A discovered hot term with the statistics that admitted it.</summary>
public sealed record HotTerm(
    string Term,
    int Documents,
    int Frequency,
    double Pmi,
    double LeftEntropy,
    double RightEntropy,
    string? Category,
    double CategoryShare,
    IReadOnlyList<string> ExampleIds);

/// <summary>
/// Hot-topic discovery in Chinese text without a segmenter: character n-grams counted Apriori-style,
/// kept when frequent, cohesive (PMI) and free at both boundaries (entropy), minus stop phrases and
/// minus sub-terms that mostly occur inside a longer kept term.
/// </summary>
public static class HotTerms
{
    private const char Boundary = '\0';

    /// <summary>
    /// Mines ticket summaries. Place names are not topics (they have 区域分布 and the cluster alerts), so the
    /// ticket's district, town and place key are cut out of its text first.
    /// </summary>
    public static IReadOnlyList<HotTerm> Find(IEnumerable<TicketFact> tickets, HotTermOptions? options = null) =>
        Find(tickets.Select(t => new TermDocument(t.Number, WithoutPlace(t), t.Category1)), options);

    /// <summary>The summary with the ticket's own place names replaced by a boundary.</summary>
    public static string WithoutPlace(TicketFact t)
    {
        var text = t.Summary;
        var local = t.PlaceKey;
        if (local is not null)
        {
            if (local.StartsWith(t.District, StringComparison.Ordinal))
            {
                local = local[t.District.Length..];
            }

            if (t.Town.Length > 0 && local.StartsWith(t.Town, StringComparison.Ordinal))
            {
                local = local[t.Town.Length..];
            }
        }

        foreach (var name in (ReadOnlySpan<string?>)[t.PlaceKey, local, t.Town, t.District])
        {
            if (!string.IsNullOrEmpty(name) && name.Length >= 2)
            {
                text = text.Replace(name, " ", StringComparison.Ordinal);
            }
        }

        return text;
    }

    public static IReadOnlyList<HotTerm> Find(IEnumerable<TermDocument> documents, HotTermOptions? options = null)
    {
        options ??= HotTermOptions.Default;
        var all = documents.ToList();
        if (all.Count <= options.MaxMinedDocuments || options.MaxMinedDocuments <= 0)
        {
            return Mine(all, options);
        }

        var stride = (double)all.Count / options.MaxMinedDocuments;
        var sample = Enumerable.Range(0, options.MaxMinedDocuments).Select(i => all[(int)(i * stride)]).ToList();
        var found = Mine(sample, options);
        var docs = new int[found.Count];
        var freq = new int[found.Count];
        foreach (var d in all)
        {
            for (var k = 0; k < found.Count; k++)
            {
                var n = Occurrences(d.Text, found[k].Term);
                freq[k] += n;
                docs[k] += n > 0 ? 1 : 0;
            }
        }

        return found.Select((h, k) => h with { Documents = docs[k], Frequency = freq[k] })
            .OrderByDescending(h => h.Documents).ThenByDescending(h => h.Pmi).ThenBy(h => h.Term, StringComparer.Ordinal).ToList();
    }

    private static int Occurrences(string text, string term)
    {
        var n = 0;
        for (var i = text.IndexOf(term, StringComparison.Ordinal); i >= 0; i = text.IndexOf(term, i + term.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    private static List<HotTerm> Mine(List<TermDocument> docs, HotTermOptions options)
    {
        if (docs.Count == 0)
        {
            return [];
        }

        var runs = docs.Select(d => Runs(d.Text)).ToList();
        long totalChars = runs.Sum(r => r.Sum(s => (long)s.Length));
        var minCount = options.MinDocuments;

        // Level 1 .. MaxLength (+1 is not needed: neighbours are read from the text in the second pass).
        var stats = new Dictionary<string, GramStats>(StringComparer.Ordinal);
        var lookup = stats.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var n = 1; n <= options.MaxLength; n++)
        {
            var added = 0;
            for (var d = 0; d < runs.Count; d++)
            {
                foreach (var run in runs[d])
                {
                    var span = run.AsSpan();
                    for (var i = 0; i + n <= span.Length; i++)
                    {
                        var gram = span.Slice(i, n);
                        if (n > 1 && (!Frequent(lookup, gram[..^1], minCount) || !Frequent(lookup, gram[1..], minCount)))
                        {
                            continue;
                        }

                        if (!lookup.TryGetValue(gram, out var s))
                        {
                            s = new GramStats();
                            lookup[gram] = s;
                            added++;
                        }

                        s.Count++;
                        if (s.LastDoc != d)
                        {
                            s.LastDoc = d;
                            s.Documents++;
                        }
                    }
                }
            }

            if (added == 0)
            {
                break;
            }
        }

        var maxDocs = options.MaxDocumentShare * docs.Count;
        var candidates = new Dictionary<string, Candidate>(StringComparer.Ordinal);
        foreach (var (gram, s) in stats)
        {
            if (gram.Length < options.MinLength || s.Documents < minCount || s.Documents > maxDocs
                || ContainsStopPhrase(gram, options.StopPhrases)
                || options.StopEdgeChars.Contains(gram[0], StringComparison.Ordinal)
                || options.StopEdgeChars.Contains(gram[^1], StringComparison.Ordinal))
            {
                continue;
            }

            var pmi = double.MaxValue;
            for (var k = 1; k < gram.Length; k++)
            {
                var a = stats[gram[..k]].Count;
                var b = stats[gram[k..]].Count;
                pmi = Math.Min(pmi, Math.Log((double)s.Count * totalChars / ((double)a * b)));
            }

            if (pmi >= options.MinPmi)
            {
                candidates[gram] = new Candidate(gram, s.Count, s.Documents, pmi);
            }
        }

        // Second pass: boundary neighbours, categories and examples, for candidates only.
        var candLookup = candidates.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var d = 0; d < runs.Count; d++)
        {
            foreach (var run in runs[d])
            {
                var span = run.AsSpan();
                for (var n = options.MinLength; n <= options.MaxLength; n++)
                {
                    for (var i = 0; i + n <= span.Length; i++)
                    {
                        if (!candLookup.TryGetValue(span.Slice(i, n), out var c))
                        {
                            continue;
                        }

                        c.Left.Add(i == 0 ? Boundary : span[i - 1]);
                        c.Right.Add(i + n == span.Length ? Boundary : span[i + n]);
                        if (c.LastDoc != d)
                        {
                            c.LastDoc = d;
                            var cat = docs[d].Category;
                            c.Categories[cat] = c.Categories.GetValueOrDefault(cat) + 1;
                            if (c.Examples.Count < 3 && !c.Examples.Any(e => docs[e].Text == docs[d].Text))
                            {
                                c.Examples.Add(d);
                            }
                        }
                    }
                }
            }
        }

        var kept = candidates.Values
            .Select(c => (c, left: Entropy(c.Left), right: Entropy(c.Right)))
            .Where(x => Math.Min(x.left, x.right) >= options.MinBoundaryEntropy)
            .OrderByDescending(x => x.c.Term.Length)
            .ThenByDescending(x => x.c.Documents)
            .ToList();

        // Sub-term suppression: walk longest first; a term is dropped if a kept longer term contains it
        // and explains most of its occurrences.
        var accepted = new List<(Candidate c, double left, double right)>();
        foreach (var x in kept)
        {
            var explained = accepted.Any(a => a.c.Term.Contains(x.c.Term, StringComparison.Ordinal)
                                              && x.c.Documents <= options.SubTermRatio * a.c.Documents);
            if (!explained)
            {
                accepted.Add(x);
            }
        }

        return accepted
            .OrderByDescending(x => x.c.Documents)
            .ThenByDescending(x => x.c.Pmi)
            .ThenBy(x => x.c.Term, StringComparer.Ordinal)
            .Take(options.Top)
            .Select(x =>
            {
                var top = x.c.Categories.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First();
                var share = (double)top.Value / x.c.Documents;
                return new HotTerm(x.c.Term, x.c.Documents, x.c.Frequency, x.c.Pmi, x.left, x.right,
                    share >= options.CategoryShare ? top.Key : null, share, x.c.Examples.Select(e => docs[e].Id).ToList());
            })
            .ToList();
    }

    /// <summary>Number of documents whose text contains the term (used for baselines).</summary>
    public static int CountDocuments(IEnumerable<TicketFact> tickets, string term) =>
        tickets.Count(t => t.Summary.Contains(term, StringComparison.Ordinal));

    /// <summary>Maximal runs of CJK ideographs; everything else (digits, Latin, punctuation) is a boundary.</summary>
    internal static List<string> Runs(string text)
    {
        var list = new List<string>();
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var cjk = i < text.Length && IsHan(text[i]);
            if (cjk && start < 0)
            {
                start = i;
            }
            else if (!cjk && start >= 0)
            {
                list.Add(text[start..i]);
                start = -1;
            }
        }

        return list;
    }

    /// <summary>A term that is, or contains, a stop phrase (来电人反映 ⊃ 反映) is boilerplate.</summary>
    private static bool ContainsStopPhrase(string gram, IReadOnlySet<string> stop)
    {
        for (var len = 2; len <= gram.Length; len++)
        {
            for (var i = 0; i + len <= gram.Length; i++)
            {
                if (stop.Contains(gram.Substring(i, len)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsHan(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF';

    private static bool Frequent(Dictionary<string, GramStats>.AlternateLookup<ReadOnlySpan<char>> lookup, ReadOnlySpan<char> gram, int min) =>
        lookup.TryGetValue(gram, out var s) && s.Count >= min;

    /// <summary>Entropy of the neighbour distribution; each text boundary counts as its own distinct neighbour.</summary>
    private static double Entropy(Neighbours n)
    {
        double total = n.Total;
        if (total == 0)
        {
            return 0;
        }

        var h = n.Boundaries * (Math.Log(total) / total);
        foreach (var count in n.Counts.Values)
        {
            var p = count / total;
            h -= p * Math.Log(p);
        }

        return h;
    }

    private sealed class GramStats
    {
        public int Count;
        public int Documents;
        public int LastDoc = -1;
    }

    private sealed class Neighbours
    {
        public Dictionary<char, int> Counts { get; } = [];
        public int Boundaries { get; private set; }
        public int Total { get; private set; }

        public void Add(char c)
        {
            Total++;
            if (c == Boundary)
            {
                Boundaries++;
            }
            else
            {
                Counts[c] = Counts.GetValueOrDefault(c) + 1;
            }
        }
    }

    private sealed class Candidate(string term, int frequency, int documents, double pmi)
    {
        public string Term { get; } = term;
        public int Frequency { get; } = frequency;
        public int Documents { get; } = documents;
        public double Pmi { get; } = pmi;
        public Neighbours Left { get; } = new();
        public Neighbours Right { get; } = new();
        public Dictionary<string, int> Categories { get; } = new(StringComparer.Ordinal);
        public List<int> Examples { get; } = [];
        public int LastDoc { get; set; } = -1;
    }
}
