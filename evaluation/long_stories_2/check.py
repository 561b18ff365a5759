#!/usr/bin/env python3
"""Validate stories.jsonl and print counts. Python 3 standard library only."""
import csv, json, os, sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, 'stories.jsonl')
TSV = '/work/shared/reference/saf-quality-statements.tsv'

KINDS = {'public_story', 'inspection_note'}
KQS = ['safe', 'effective', 'caring', 'responsive', 'well-led']
DIR_BANDS = {'positive': {'outstanding', 'good'}, 'negative': {'requires_improvement', 'inadequate'}}
TOPIC_FIELDS = {'key_question', 'statement', 'direction', 'band', 'span'}
FIELDS = {'id', 'kind', 'text', 'topics', 'main_key_question'}


def pct(vals, p):
    vals = sorted(vals)
    if not vals:
        return None
    k = (len(vals) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(vals) - 1)
    return round(vals[lo] + (vals[hi] - vals[lo]) * (k - lo))


def main():
    statements = {}
    with open(TSV, encoding='utf-8') as fh:
        for row in csv.DictReader(fh, delimiter='\t'):
            statements[row['id']] = row['key_question']

    errors, recs, ids = [], [], set()
    with open(DATA, encoding='utf-8') as fh:
        for n, line in enumerate(fh, 1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f'line {n}: bad JSON ({e})')
                continue
            where = f'line {n} ({r.get("id")})'
            if set(r) != FIELDS:
                errors.append(f'{where}: fields {sorted(r)}')
                continue
            if r['id'] in ids:
                errors.append(f'{where}: duplicate id')
            ids.add(r['id'])
            if r['kind'] not in KINDS:
                errors.append(f'{where}: bad kind {r["kind"]}')
            if not isinstance(r['text'], str) or not r['text'].strip():
                errors.append(f'{where}: empty text')
            if not isinstance(r['topics'], list) or not r['topics']:
                errors.append(f'{where}: no topics')
                continue
            seen = set()
            for t in r['topics']:
                if set(t) != TOPIC_FIELDS:
                    errors.append(f'{where}: topic fields {sorted(t)}')
                    continue
                if t['key_question'] not in KQS:
                    errors.append(f'{where}: bad key_question {t["key_question"]}')
                if t['statement'] not in statements:
                    errors.append(f'{where}: unknown statement {t["statement"]}')
                elif statements[t['statement']] != t['key_question']:
                    errors.append(f'{where}: {t["statement"]} is not under {t["key_question"]}')
                if t['direction'] not in DIR_BANDS:
                    errors.append(f'{where}: bad direction {t["direction"]}')
                elif t['band'] not in DIR_BANDS[t['direction']]:
                    errors.append(f'{where}: band {t["band"]} does not fit {t["direction"]}')
                if not t['span'] or t['span'] not in r['text']:
                    errors.append(f'{where}: span not a substring of text: {t["span"]!r}')
                key = (t['statement'], t['direction'])
                if key in seen:
                    errors.append(f'{where}: {key} listed twice')
                seen.add(key)
            if r['main_key_question'] not in {t.get('key_question') for t in r['topics']}:
                errors.append(f'{where}: main_key_question {r["main_key_question"]} not among topics')
            recs.append(r)

    if errors:
        print('ERRORS:')
        print('\n'.join(errors))
    print(f'texts: {len(recs)}  errors: {len(errors)}')

    kinds = Counter(r['kind'] for r in recs)
    print('\ntexts per kind:', dict(kinds))

    print('\ntopics per text:')
    for kind in sorted(kinds) + ['all']:
        sub = [r for r in recs if kind == 'all' or r['kind'] == kind]
        c = Counter(min(len(r['topics']), 5) for r in sub)
        print(f'  {kind:16s}', ', '.join(f'{k if k < 5 else "5+"}: {c[k]}' for k in sorted(c)),
              f'| mean {sum(len(r["topics"]) for r in sub) / len(sub):.2f}')

    topics = [t for r in recs for t in r['topics']]
    print(f'\ntopics total: {len(topics)}')
    print('directions:', dict(Counter(t['direction'] for t in topics)))
    print('bands:', {b: Counter(t['band'] for t in topics)[b]
                     for b in ['outstanding', 'good', 'requires_improvement', 'inadequate']})
    kq = Counter(t['key_question'] for t in topics)
    print('topic key questions:', {k: kq[k] for k in KQS})
    mk = Counter(r['main_key_question'] for r in recs)
    print('main key questions:', {k: mk[k] for k in KQS})

    mixed = [r for r in recs if len({t['direction'] for t in r['topics']}) == 2]
    allpos = [r for r in recs if {t['direction'] for t in r['topics']} == {'positive'}]
    allneg = [r for r in recs if {t['direction'] for t in r['topics']} == {'negative'}]
    print(f'\nmixed-direction texts: {len(mixed)} '
          f'(public {sum(r["kind"] == "public_story" for r in mixed)}, '
          f'inspection {sum(r["kind"] == "inspection_note" for r in mixed)})'
          f'; all positive: {len(allpos)}; all negative: {len(allneg)}')
    multi_kq = sum(len({t['key_question'] for t in r['topics']}) > 1 for r in recs)
    print(f'texts spanning >1 key question: {multi_kq}')

    print('\ntext length (characters) percentiles p0/p10/p25/p50/p75/p90/p100:')
    for kind in sorted(kinds) + ['all']:
        L = [len(r['text']) for r in recs if kind == 'all' or r['kind'] == kind]
        print(f'  {kind:16s}', '/'.join(str(pct(L, p)) for p in (0, 10, 25, 50, 75, 90, 100)))
    L = [len(r['text']) for r in recs if r['kind'] == 'public_story']
    print(f'  public_story >=1500 chars: {sum(x >= 1500 for x in L)}; <180 chars: {sum(x < 180 for x in L)}')

    sc = Counter(t['statement'] for t in topics)
    unused = [s for s in statements if s not in sc]
    print(f'\nstatements used: {len(sc)}/{len(statements)}' + (f'; unused: {unused}' if unused else ''))
    print('statement counts:')
    for s in statements:
        print(f'  {sc[s]:3d}  {s}')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
