"""Per held-out set note-level band confusion: shipped calibration vs the adapter chosen by nested selection
(reads experiments/band_adapter_nested.json; prints counts only). PYTHONPATH=src:experiments python experiments/band_adapter_note_confusion.py"""
import json
from pathlib import Path

import band_adapter_nested as m
import numpy as np
from assess_loso import SETS

from evidencenlp.assess import load_rules

rep = json.load(open("experiments/band_adapter_nested.json"))
data, ver = m.load_cache(Path("/tmp/rating5/sugg.pkl"))
z = np.load("/tmp/rating6/emb.npz", allow_pickle=False)
emb = dict(zip(z["keys"].tolist(), z["vectors"]))
rules = load_rules()[2]
notes = m.note_table(data, emb, rules)
fs = list(SETS.values())
tot = {"shipped": np.zeros((4, 4), int), "nested": np.zeros((4, 4), int)}
for s, f in SETS.items():
    for name, label in (("shipped", "shipped"), (rep["chosen"][s], "nested")):
        meth = m.Method(name, data, notes, [g for g in fs if g != f], ver, rules)
        c = np.array(m.confusion(notes[f]["y"], meth.note_probs(f)))
        tot[label] += c
        print(s, label, name, "O->O", c[0, 0], "/", c[0].sum(), "O->G", c[0, 1], "I->I", c[3, 3], "/", c[3].sum(), "I->RI", c[3, 2], "acc", np.trace(c), "/", c.sum(), flush=True)
for k, c in tot.items():
    print(k, "rows expected O,G,RI,I; cols predicted", c.tolist())
