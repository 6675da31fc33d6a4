#!/usr/bin/env python3
"""md2man.py SRC.md OUT.1 NAME SECTION [TITLE]: the small Markdown subset of
docs/man/*.md and docs/options.md (headings, paragraphs, lists, code blocks,
tables, `code`, **bold**, *italic*, links) as a roff man page.  Debian 12 has
pandoc, but it is 100 MB for this; the subset is enough."""
import re
import sys


def esc(s):
    s = s.replace('\\', '\\e')
    return s


def inline(s):
    s = re.sub(r'<!--.*?-->', '', s)
    s = re.sub(r'\[([^\]]*)\]\(([^)]*)\)', r'\1', s)  # links: the text
    out = []
    for i, part in enumerate(re.split(r'(`[^`]*`)', s)):
        if i % 2:
            out.append('\\fB' + esc(part[1:-1]).replace('-', '\\-') + '\\fR')
            continue
        p = esc(part)
        p = re.sub(r'\*\*([^*]+)\*\*', r'\\fB\1\\fR', p)
        p = re.sub(r'(?<![\w*])\*([^*]+)\*(?![\w*])', r'\\fI\1\\fR', p)
        p = p.replace('\\e|', '|')
        out.append(p)
    return ''.join(out)


def line(s):
    s = inline(s)
    if s[:1] in ('.', "'"):
        s = '\\&' + s
    return s


def cells(row):
    row = row.strip().strip('|')
    return [c.strip() for c in re.split(r'(?<!\\)\|', row)]


def convert(src, name, section, title):
    out = ['.TH %s %s "" "SFEmu" "%s"' % (name.upper(), section, title)]
    lines = src.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith('<!--'):
            i += 1
            continue
        if ln.startswith('```'):
            out.append('.PP\n.RS 4\n.nf')
            i += 1
            while i < len(lines) and not lines[i].startswith('```'):
                t = esc(lines[i])
                out.append(('\\&' + t) if t[:1] in ('.', "'") else t)
                i += 1
            out.append('.fi\n.RE')
        elif ln.startswith('# '):
            pass  # the title: .TH
        elif ln.startswith('## '):
            out.append('.SH ' + line(ln[3:]).upper())
        elif ln.startswith('### '):
            out.append('.SS ' + line(ln[4:]))
        elif ln.startswith('|'):
            head = cells(ln)
            i += 2  # the |---| line
            while i < len(lines) and lines[i].startswith('|'):
                c = cells(lines[i])
                out.append('.TP\n' + line(c[0]))
                out.append('\n'.join(line('%s: %s' % (h, v)) + '\n.br'
                                     for h, v in zip(head[1:], c[1:])
                                     if v and v != '—'))
                i += 1
            continue
        elif re.match(r'^\s*([-*]|\d+\.) ', ln):
            m = re.match(r'^\s*([-*]|\d+\.) (.*)', ln)
            out.append('.IP \\(bu 2' if m.group(1) in '-*' else
                       '.IP %s 4' % m.group(1))
            out.append(line(m.group(2)))
        elif out[-1].startswith('.SH NAME'):
            out.append(line(ln.strip()).replace(' - ', ' \\- ', 1))
        elif ln.strip() == '':
            out.append('.PP')
        else:
            out.append(line(ln.strip()))
        i += 1
    return '\n'.join(out) + '\n'


if __name__ == '__main__':
    src, dst, name, section = sys.argv[1:5]
    title = sys.argv[5] if len(sys.argv) > 5 else 'SFEmu manual'
    with open(src, encoding='utf-8') as f:
        text = f.read()
    with open(dst, 'w', encoding='utf-8') as f:
        f.write(convert(text, name, section, title))
