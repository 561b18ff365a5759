#!/usr/bin/env python3
"""Build ../stories.jsonl from the block files in this folder.

Block format (see public1.txt header). Aliases below map to statement ids in
/work/shared/reference/saf-quality-statements.tsv. Texts are shuffled with a fixed
seed before ids are assigned, so id order does not give away the kind.
"""
import json, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'stories.jsonl')
SEED = 20240611

ALIASES = {
    'S.learn': 'safe.learning-culture',
    'S.sys': 'safe.safe-systems-pathways-transitions',
    'S.sg': 'safe.safeguarding',
    'S.risk': 'safe.involving-people-to-manage-risks',
    'S.env': 'safe.safe-environments',
    'S.staff': 'safe.safe-and-effective-staffing',
    'S.ipc': 'safe.infection-prevention-and-control',
    'S.med': 'safe.medicines-optimisation',
    'E.assess': 'effective.assessing-needs',
    'E.ebc': 'effective.delivering-evidence-based-care',
    'E.team': 'effective.how-staff-teams-and-services-work-together',
    'E.healthy': 'effective.supporting-people-to-live-healthier-lives',
    'E.outcome': 'effective.monitoring-and-improving-outcomes',
    'E.consent': 'effective.consent-to-care-and-treatment',
    'C.kind': 'caring.kindness-compassion-and-dignity',
    'C.indiv': 'caring.treating-people-as-individuals',
    'C.indep': 'caring.independence-choice-and-control',
    'C.immed': 'caring.responding-to-immediate-needs',
    'C.wfw': 'caring.workforce-wellbeing-and-enablement',
    'R.pcc': 'responsive.person-centred-care',
    'R.cont': 'responsive.care-provision-integration-and-continuity',
    'R.info': 'responsive.providing-information',
    'R.listen': 'responsive.listening-to-and-involving-people',
    'R.access': 'responsive.equity-in-access',
    'R.equity': 'responsive.equity-in-experiences-and-outcomes',
    'R.future': 'responsive.planning-for-the-future',
    'W.culture': 'well-led.shared-direction-and-culture',
    'W.leaders': 'well-led.capable-compassionate-and-inclusive-leaders',
    'W.speak': 'well-led.freedom-to-speak-up',
    'W.edi': 'well-led.workforce-equality-diversity-and-inclusion',
    'W.gov': 'well-led.governance-management-and-sustainability',
    'W.partner': 'well-led.partnerships-and-communities',
    'W.learn': 'well-led.learning-improvement-and-innovation',
    'W.env': 'well-led.environmental-sustainability',
}
KQ = {'S': 'safe', 'E': 'effective', 'C': 'caring', 'R': 'responsive', 'W': 'well-led'}
DIRS = {'+': 'positive', '-': 'negative'}
BANDS = {'out': 'outstanding', 'good': 'good', 'ri': 'requires_improvement', 'inad': 'inadequate'}


def parse(path):
    items, cur, mode = [], None, None
    for ln, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if line.startswith('@@'):
            parts = line[2:].split()
            kind = parts[0]
            main = dict(p.split('=') for p in parts[1:])['main']
            cur = {'kind': kind, 'main': main, 'lines': [], 'topics': [], 'src': f'{os.path.basename(path)}:{ln}'}
            items.append(cur)
            mode = 'text'
        elif cur is None:
            continue  # header comments
        elif mode == 'text' and line == '--':
            mode = 'topics'
        elif mode == 'text':
            cur['lines'].append(line)
        elif mode == 'topics':
            if not line.strip():
                continue
            head, span = line.split(' | ', 1)
            alias, d, b = head.split()
            cur['topics'].append((alias, d, b, span, ln))
    return items


def main():
    files = sorted(f for f in os.listdir(HERE) if f.endswith('.txt'))
    items = []
    for f in files:
        items.extend(parse(os.path.join(HERE, f)))
    errors = []
    records = []
    for it in items:
        text = '\n'.join(it['lines']).strip('\n')
        topics, seen = [], set()
        for alias, d, b, span, ln in it['topics']:
            if alias not in ALIASES or d not in DIRS or b not in BANDS:
                errors.append(f'{it["src"]} line {ln}: bad label {alias} {d} {b}')
                continue
            if span not in text:
                errors.append(f'{it["src"]} line {ln}: span not in text: {span!r}')
            key = (alias, d)
            if key in seen:
                errors.append(f'{it["src"]} line {ln}: duplicate {key}')
            seen.add(key)
            topics.append({'key_question': KQ[alias[0]], 'statement': ALIASES[alias],
                           'direction': DIRS[d], 'band': BANDS[b], 'span': span})
        records.append({'kind': it['kind'], 'text': text, 'topics': topics,
                        'main_key_question': it['main'], '_src': it['src']})
    if errors:
        print('\n'.join(errors))
        sys.exit(1)
    rng = random.Random(SEED)
    rng.shuffle(records)
    with open(OUT, 'w', encoding='utf-8') as fh:
        for i, r in enumerate(records, 1):
            r.pop('_src')
            obj = {'id': f't{i:03d}', 'kind': r['kind'], 'text': r['text'], 'topics': r['topics'],
                   'main_key_question': r['main_key_question']}
            fh.write(json.dumps(obj, ensure_ascii=False) + '\n')
    print(f'wrote {len(records)} records to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
