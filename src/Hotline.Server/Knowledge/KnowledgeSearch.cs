using System.Globalization;
using System.Text;

namespace Hotline.Server.Knowledge;

public sealed record SearchHit(Guid ItemId, double Score);

/// <summary>
/// Chinese full-text ranking without a word segmenter: CJK runs become character bigrams (plus unigrams at a low
/// weight, so one-character queries and odd splits still match), Latin words and numbers stay whole; BM25 over the
/// title and keywords (weighted 3×) and the body; the query is widened by the configured synonym groups.
/// </summary>
public sealed class KnowledgeSearch
{
    private const double K1 = 1.2, B = 0.75, TitleWeight = 3, UnigramWeight = 0.25, SynonymWeight = 0.7;

    private readonly Dictionary<Guid, (Dictionary<string, double> Tf, double Length)> _docs = [];
    private readonly Dictionary<string, int> _df = new(StringComparer.Ordinal);
    private double _avgLength = 1;

    public KnowledgeSearch(IEnumerable<(Guid Id, string Title, IReadOnlyList<string> Keywords, string Body)> items)
    {
        foreach (var (id, title, keywords, body) in items)
        {
            var tf = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var t in Tokens(title + " " + string.Join(' ', keywords))) tf[t] = tf.GetValueOrDefault(t) + TitleWeight;
            foreach (var t in Tokens(body)) tf[t] = tf.GetValueOrDefault(t) + 1;
            _docs[id] = (tf, tf.Values.Sum());
            foreach (var t in tf.Keys) _df[t] = _df.GetValueOrDefault(t) + 1;
        }
        if (_docs.Count > 0) _avgLength = _docs.Values.Average(d => d.Length);
    }

    public IReadOnlyList<SearchHit> Search(string query, IReadOnlyList<IReadOnlyList<string>> synonyms, int top)
    {
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        void Add(string text, double w)
        {
            foreach (var t in Tokens(text).Distinct())
                weights[t] = Math.Max(weights.GetValueOrDefault(t), t.Length == 1 && IsCjk(t[0]) ? w * UnigramWeight : w);
        }
        Add(query, 1);
        var normalized = Normalize(query);
        foreach (var group in synonyms)
            if (group.Any(term => term.Length > 0 && normalized.Contains(Normalize(term), StringComparison.Ordinal)))
                foreach (var term in group) Add(term, SynonymWeight);

        var n = _docs.Count;
        var hits = new List<SearchHit>();
        foreach (var (id, doc) in _docs)
        {
            double score = 0;
            foreach (var (term, w) in weights)
            {
                if (!doc.Tf.TryGetValue(term, out var tf)) continue;
                var df = _df[term];
                var idf = Math.Log(1 + ((n - df + 0.5) / (df + 0.5)));
                score += w * idf * (tf * (K1 + 1) / (tf + (K1 * (1 - B + (B * doc.Length / _avgLength)))));
            }
            if (score > 0) hits.Add(new SearchHit(id, score));
        }
        return hits.OrderByDescending(h => h.Score).ThenBy(h => h.ItemId).Take(top).ToList();
    }

    /// <summary>Bigrams and unigrams of CJK runs, lower-case Latin words and numbers; punctuation splits.</summary>
    public static IEnumerable<string> Tokens(string text)
    {
        var s = Normalize(text);
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (IsCjk(c))
            {
                var start = i;
                while (i < s.Length && IsCjk(s[i])) i++;
                var run = s[start..i];
                for (var k = 0; k < run.Length; k++)
                {
                    yield return run[k].ToString();
                    if (k + 1 < run.Length) yield return run.Substring(k, 2);
                }
            }
            else if (char.IsLetterOrDigit(c))
            {
                var start = i;
                while (i < s.Length && char.IsLetterOrDigit(s[i]) && !IsCjk(s[i])) i++;
                yield return s[start..i];
            }
            else i++;
        }
    }

    /// <summary>Full-width to half-width, lower case.</summary>
    /// <summary>NFKC + lower case. Text that cannot be normalised (noncharacters, lone surrogates) is searched as given.</summary>
    public static string Normalize(string text)
    {
        string normalized;
        try { normalized = text.Normalize(NormalizationForm.FormKC); }
        catch (ArgumentException) { normalized = text; }
        return normalized.ToLower(CultureInfo.InvariantCulture);
    }

    private static bool IsCjk(char c) => c is >= '\u4e00' and <= '\u9fff' or >= '\u3400' and <= '\u4dbf' or >= '\uf900' and <= '\ufaff';
}
