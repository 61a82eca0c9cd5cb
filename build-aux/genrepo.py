#!/usr/bin/python3
"""genrepo.py N OUTDIR: a synthetic rpm-md repository of N packages (no RPMs).

Writes OUTDIR/repodata/<sha256>-primary.xml.gz and OUTDIR/repodata/repomd.xml
(sha256 checksums, open checksums, sizes, timestamps), shaped like a Fedora
repository so that loading it costs what loading Fedora costs: package i is
syn<i> (zero-padded to 5 digits), every fifth noarch, else x86_64; it provides
itself, its arch-qualified name, six sonames and config(name); it requires eight
sonames of lower-numbered packages and /bin/sh; it lists three files; it has a
summary and a six-sentence description. Deterministic: the same N gives the same
bytes. Creates OUTDIR (must not exist); nothing else.
"""
import gzip
import hashlib
import os
import random
import sys

TIMESTAMP = 1704067200
WORDS = ("system library tool daemon network storage graphics audio font "
         "python perl ruby rust golang kernel firmware theme plugin server client "
         "utility manager editor viewer shell terminal desktop service").split()


def sentence(rng):
    return " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "."


def package(i, rng):
    name = "syn%05d" % i
    arch = "noarch" if i % 5 == 0 else "x86_64"
    ver = "%d.%d.%d" % (rng.randint(0, 9), rng.randint(0, 30), rng.randint(0, 99))
    rel = "%d.fc39" % rng.randint(1, 9)
    summary = "Synthetic %s %s for %s" % (rng.choice(WORDS), rng.choice(WORDS), name)
    desc = " ".join(sentence(rng) for _ in range(6))
    provides = ['<rpm:entry name="%s" flags="EQ" epoch="0" ver="%s" rel="%s"/>' % (name, ver, rel),
                '<rpm:entry name="%s(x86-64)" flags="EQ" epoch="0" ver="%s" rel="%s"/>' % (name, ver, rel),
                '<rpm:entry name="config(%s)" flags="EQ" epoch="0" ver="%s" rel="%s"/>' % (name, ver, rel)]
    provides += ['<rpm:entry name="lib%s.so.%d()(64bit)"/>' % (name, k) for k in range(6)]
    requires = ['<rpm:entry name="/bin/sh"/>']
    for _ in range(8 if i > 0 else 0):
        j = rng.randrange(0, i)
        requires.append('<rpm:entry name="libsyn%05d.so.%d()(64bit)"/>' % (j, rng.randrange(6)))
    pkgid = hashlib.sha256(("%s-%s-%s" % (name, ver, rel)).encode()).hexdigest()
    return (
        '<package type="rpm"><name>%s</name><arch>%s</arch>'
        '<version epoch="0" ver="%s" rel="%s"/>'
        '<checksum type="sha256" pkgid="YES">%s</checksum>'
        '<summary>%s</summary><description>%s</description>'
        '<packager>Synthetic</packager><url>https://example.com/%s</url>'
        '<time file="%d" build="%d"/><size package="%d" installed="%d" archive="%d"/>'
        '<location href="Packages/%s-%s-%s.%s.rpm"/>'
        '<format><rpm:license>MIT</rpm:license><rpm:vendor>Synthetic</rpm:vendor>'
        '<rpm:group>Unspecified</rpm:group><rpm:buildhost>gen</rpm:buildhost>'
        '<rpm:sourcerpm>%s-%s-%s.src.rpm</rpm:sourcerpm>'
        '<rpm:header-range start="4504" end="%d"/>'
        '<rpm:provides>%s</rpm:provides><rpm:requires>%s</rpm:requires>'
        '<file>/usr/bin/%s</file><file>/etc/%s.conf</file><file type="dir">/usr/share/%s</file>'
        '</format></package>\n'
    ) % (name, arch, ver, rel, pkgid, summary, desc, name, TIMESTAMP, TIMESTAMP,
         20000 + i, 80000 + i, 81000 + i, name, ver, rel, arch, name, ver, rel, 9000 + i,
         "".join(provides), "".join(requires), name, name, name)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(os.path.join(out, "repodata"))
    rng = random.Random(4242)
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<metadata xmlns="http://linux.duke.edu/metadata/common" '
            'xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">\n' % n)
    tmp = os.path.join(out, "repodata", "primary.tmp")
    opened = hashlib.sha256()
    open_size = 0
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
        for chunk in [head] + [package(i, rng) for i in range(n)] + ["</metadata>\n"]:
            data = chunk.encode()
            opened.update(data)
            open_size += len(data)
            gz.write(data)
    with open(tmp, "rb") as f:
        packed = hashlib.sha256(f.read()).hexdigest()
    size = os.path.getsize(tmp)
    name = "%s-primary.xml.gz" % packed
    os.rename(tmp, os.path.join(out, "repodata", name))
    repomd = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n'
        '  <revision>%d</revision>\n'
        '  <data type="primary">\n'
        '    <checksum type="sha256">%s</checksum>\n'
        '    <open-checksum type="sha256">%s</open-checksum>\n'
        '    <location href="repodata/%s"/>\n'
        '    <timestamp>%d</timestamp>\n'
        '    <size>%d</size>\n'
        '    <open-size>%d</open-size>\n'
        '  </data>\n'
        '</repomd>\n'
    ) % (TIMESTAMP, packed, opened.hexdigest(), name, TIMESTAMP, size, open_size)
    with open(os.path.join(out, "repodata", "repomd.xml"), "w") as f:
        f.write(repomd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
