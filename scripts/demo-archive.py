#!/usr/bin/env python3
"""demo-archive.py: writes conf/demo-archive.csv, the demo city's made-up
resident archive (docs/archive.md): a few hundred households in the grids
of 建外街道 with residents, care tags and last visits. Every name, ID-card
number and phone is invented; the ID numbers carry valid GB 11643 check
digits so that the import accepts them. Deterministic: the same file on
every run.

    python3 scripts/demo-archive.py > conf/demo-archive.csv
"""
import json
import os
import random
import sys

rnd = random.Random(14)
here = os.path.dirname(os.path.abspath(__file__))
city = json.load(open(os.path.join(here, "..", "conf", "demo-city.json"), encoding="utf-8"))
grids = [n["code"] for n in city["nodes"] if n.get("kind") == "grid" and n["code"].startswith("110105001")]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["秀英", "桂兰", "建国", "建华", "志强", "丽", "敏", "静", "伟", "芳", "军", "洋", "勇", "艳", "杰", "娟",
         "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "玉兰", "淑珍", "德明", "国庆", "海燕", "子涵", "浩然", "欣怡"]
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
used = set()


def idcard(year, month, day):
    while True:
        seq = rnd.randint(1, 999)
        first = "110105%04d%02d%02d%03d" % (year, month, day, seq)
        if first not in used:
            used.add(first)
            break
    s = sum(int(c) * w for c, w in zip(first, W))
    return first + "10X98765432"[s % 11]


def person(age_lo, age_hi):
    year = 2026 - rnd.randint(age_lo, age_hi)
    month, day = rnd.randint(1, 12), rnd.randint(1, 28)
    name = rnd.choice(SURNAMES) + rnd.choice(GIVEN)
    phone = "1" + rnd.choice("3589") + "%09d" % rnd.randint(0, 999999999)
    return name, idcard(year, month, day), phone


out = sys.stdout
out.write("grid,building,unit,room,name,id_number,phone,birth_date,relation,tags,last_visit\n")
households = 0
addresses = set()
for gi, grid in enumerate(grids):
    # the grid worker's own grid (永安东里) gets the most
    n = 90 if gi == 0 else 30
    for h in range(n):
        households += 1
        while True:
            building = "%d号楼" % rnd.randint(1, 12)
            unit = "%d单元" % rnd.randint(1, 4)
            room = "%d%02d" % (rnd.randint(1, 6), rnd.randint(1, 4))
            if (grid, building, unit, room) not in addresses:
                addresses.add((grid, building, unit, room))
                break
        kind = rnd.random()
        members = []
        if kind < 0.12:  # elderly living alone
            members.append(person(72, 92) + ("户主", "alone"))
        elif kind < 0.22:  # empty nest
            members.append(person(65, 85) + ("户主", "empty_nest"))
            members.append(person(63, 83) + ("配偶", "empty_nest"))
        else:
            members.append(person(35, 60) + ("户主", ""))
            if rnd.random() < 0.8:
                members.append(person(33, 58) + ("配偶", ""))
            for _ in range(rnd.randint(0, 2)):
                members.append(person(3, 25) + ("子女", ""))
        if rnd.random() < 0.06:
            name, idn, phone, rel, tags = members[-1]
            members[-1] = (name, idn, phone, rel, (tags + "|" if tags else "") + "disabled")
        if rnd.random() < 0.05:
            name, idn, phone, rel, tags = members[0]
            members[0] = (name, idn, phone, rel, (tags + "|" if tags else "") + "low_income")
        if rnd.random() < 0.04:
            name, idn, phone, rel, tags = members[0]
            members[0] = (name, idn, phone, rel, (tags + "|" if tags else "") + "party_member")
        # the last visit: within the last weeks, some too long ago
        last = "2026-11-%02d" % rnd.randint(1, 30) if rnd.random() < 0.7 else ""
        for i, (name, idn, phone, rel, tags) in enumerate(members):
            birth = "%s-%s-%s" % (idn[6:10], idn[10:12], idn[12:14])
            out.write(",".join([grid, building, unit, room, name, idn, phone if i < 2 else "", birth, rel, tags,
                                last]) + "\n")
sys.stderr.write("demo-archive: %d households in %d grids\n" % (households, len(grids)))
