#!/usr/bin/env python3
"""lmdb-pages.py: the tree of each page an LMDB commit wrote (docs/performance.md).

    scripts/lmdb-pages.py DATA.MDB TRACE.LOG [DB,DB,...]

TRACE.LOG is what tests/bench/lmdb_pages_trace.c logged while a program
wrote the store (run with LMDB_PAGES_STOP=N, so that the Nth commit was
the last one and its pages are all live in DATA.MDB). For that last commit
it prints how many pages it wrote and, per tree, how many were leaves,
branches and overflow pages ("FREE": LMDB's free list, "main": the tree of
the named databases). With a list of databases, it also prints each leaf
of theirs that the commit wrote, with its first and last key: which key
ranges a commit dirtied.

It reads the file itself (LMDB 0.9's layout, 4 KiB pages, 64-bit): the
newer meta page, then every tree from its root. A diagnostic, not a
checker: a page it cannot place is counted under "?".
"""
import collections
import struct
import sys

PS = 4096
P_BRANCH, P_LEAF, P_OVERFLOW = 0x01, 0x02, 0x04
F_BIGDATA, F_SUBDATA = 0x01, 0x02
DB = struct.Struct('<IHHQQQQQ')  # MDB_db: pad, flags, depth, branch, leaf, overflow, entries, root
NONE = 0xFFFFFFFFFFFFFFFF


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    data = open(argv[1], 'rb').read()
    want = argv[3].split(',') if len(argv) > 3 else []

    def page(p):
        return data[p * PS:(p + 1) * PS]

    # the meta page of the newer transaction: MDB_meta after the 16-byte
    # page header: magic, version, address, mapsize, dbs[2], last_pg, txnid
    metas = []
    for m in (0, 1):
        pg = page(m)
        off = 16 + 4 + 4 + 8 + 8
        dbs = [DB.unpack_from(pg, off), DB.unpack_from(pg, off + DB.size)]
        txnid = struct.unpack_from('<Q', pg, off + 2 * DB.size + 8)[0]
        metas.append((txnid, dbs))
    dbs = max(metas)[1]

    owner, ranges, subs = {}, {}, []

    def node(pg, i):
        no = struct.unpack_from('<H', pg, 16 + 2 * i)[0]
        lo, hi, fl, ks = struct.unpack_from('<HHHH', pg, no)
        return no, lo, hi, fl, ks

    def walk(root, name):
        if root == NONE:
            return
        stack = [root]
        while stack:
            p = stack.pop()
            pg = page(p)
            flags, lower = struct.unpack_from('<HH', pg, 10)
            if flags & P_OVERFLOW:
                for i in range(struct.unpack_from('<I', pg, 12)[0]):
                    owner[p + i] = (name, 'overflow')
                continue
            owner[p] = (name, 'branch' if flags & P_BRANCH else 'leaf')
            n = (lower - 16) >> 1
            for i in range(n):
                no, lo, hi, fl, ks = node(pg, i)
                if flags & P_BRANCH:
                    stack.append(lo | hi << 16 | fl << 32)
                    continue
                if fl & F_BIGDATA:
                    stack.append(struct.unpack_from('<Q', pg, no + 8 + ks)[0])
                if fl & F_SUBDATA and name == 'main':
                    subs.append((DB.unpack_from(pg, no + 8 + ks)[7], pg[no + 8:no + 8 + ks].decode('latin1')))
            if flags & P_LEAF and n:
                first, last = node(pg, 0), node(pg, n - 1)
                ranges[p] = (n, pg[first[0] + 8:first[0] + 8 + first[4]], pg[last[0] + 8:last[0] + 8 + last[4]])

    walk(dbs[0][7], 'FREE')
    walk(dbs[1][7], 'main')
    for root, name in subs:
        walk(root, name)

    # the pages of the last commit in the log
    commits, cur = [], []
    for line in open(argv[2]):
        f = line.split()
        if f[0] == 'C':
            commits.append(cur)
            cur = []
        elif f[0] == 'W':
            cur.extend(range(int(f[1]), int(f[1]) + int(f[2])))
    if not commits:
        sys.stderr.write('lmdb-pages: no commit in %s\n' % argv[2])
        return 1
    last = commits[-1]
    count = collections.Counter(owner.get(p, ('?', '?')) for p in last)
    per = collections.Counter()
    for (name, _), c in count.items():
        per[name] += c
    print('commit %d: %d pages' % (len(commits), len(last)))
    for name, c in per.most_common():
        kinds = ' '.join('%s %d' % (k, count[(name, k)]) for k in ('leaf', 'branch', 'overflow', '?')
                         if count[(name, k)])
        print('  %-22s %5d   %s' % (name, c, kinds))
    for p in sorted(last):
        name, kind = owner.get(p, ('?', '?'))
        if name in want and kind == 'leaf' and p in ranges:
            n, a, b = ranges[p]
            print('    %-20s page %-8d %4d keys  %r .. %r' % (name, p, n, a[:48], b[:48]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
