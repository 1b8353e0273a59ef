"""The Bash suite's tasks, written for codenook: a folder, a request in words, a check.

Each task's ``files`` are laid out in a fresh folder (``setup`` then runs there: modes,
times, archives), the answer runs there with the output kept, and ``check`` (Bash, run in
the same folder afterwards) exits 0 when the job was done. The checks may use:
``out_is TEXT`` (the output, each line's ends trimmed, is TEXT), ``out_lines_are TEXT``
(the same lines in any order), ``file_is PATH TEXT``, and ``$OUT`` (the output file) and
``$STATUS`` (the answer's exit status). ``solution`` is a known-good answer: the tests run
every one of them, and an empty answer, to show each check tells the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BashTask:
    """One Bash task."""

    id: str
    request: str
    check: str
    solution: str
    files: dict[str, str] = field(default_factory=dict)
    setup: str = ""


def _lines(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


ACCESS_LOG = _lines(
    '10.0.0.5 - - [01/Mar/2024:10:00:01] "GET / HTTP/1.1" 200 512',
    '10.0.0.7 - - [01/Mar/2024:10:00:02] "GET /about HTTP/1.1" 200 128',
    '10.0.0.5 - - [01/Mar/2024:10:00:03] "GET /login HTTP/1.1" 302 0',
    '192.168.1.20 - - [01/Mar/2024:10:00:04] "GET / HTTP/1.1" 200 512',
    '10.0.0.5 - - [01/Mar/2024:10:00:05] "POST /login HTTP/1.1" 200 64',
    '10.0.0.7 - - [01/Mar/2024:10:00:06] "GET /missing HTTP/1.1" 404 0',
)

TASKS: tuple[BashTask, ...] = (
    BashTask(
        "count-lines",
        "Print the number of lines in notes.txt.",
        "out_is 7",
        "wc -l < notes.txt",
        {"notes.txt": _lines("alpha", "beta", "gamma", "delta", "", "zeta", "eta")},
    ),
    BashTask(
        "count-py-files",
        "Print how many files whose names end in .py are in this folder and all its subfolders.",
        "out_is 4",
        "find . -type f -name '*.py' | wc -l",
        {
            "main.py": "print(1)\n",
            "src/app.py": "x = 1\n",
            "src/pkg/util.py": "y = 2\n",
            "src/pkg/__init__.py": "",
            "src/readme.txt": "not python\n",
            "notes.py.bak": "old\n",
        },
    ),
    BashTask(
        "largest-file",
        "Print the name (only the file name) of the largest file in the folder data/.",
        "out_is big.csv",
        "ls -S data | head -n 1",
        {"data/small.csv": "a\n", "data/big.csv": "x," * 500 + "\n", "data/mid.csv": "y" * 80},
    ),
    BashTask(
        "rename-extension",
        "Rename every file in docs/ whose name ends in .txt so that it ends in .md instead.",
        "[ -f docs/intro.md ] && [ -f docs/usage.md ] && [ -f docs/keep.rst ] && "
        '[ -z "$(find docs -name "*.txt")" ] && file_is docs/intro.md "Intro"',
        'for f in docs/*.txt; do mv "$f" "${f%.txt}.md"; done',
        {"docs/intro.txt": "Intro\n", "docs/usage.txt": "Usage\n", "docs/keep.rst": "rst\n"},
    ),
    BashTask(
        "distinct-sorted",
        "Print the distinct lines of words.txt in alphabetical order, each once.",
        "out_is $'apple\\nbanana\\ncherry\\ndate'",
        "sort -u words.txt",
        {"words.txt": _lines("cherry", "apple", "date", "banana", "apple", "cherry", "apple")},
    ),
    BashTask(
        "top-ip",
        "access.log is a web server log whose first field is the client's IP address. Print "
        "the IP address that occurs most often, and nothing else.",
        "out_is 10.0.0.5",
        "awk '{print $1}' access.log | sort | uniq -c | sort -rn | head -n 1 | awk '{print $2}'",
        {"access.log": ACCESS_LOG},
    ),
    BashTask(
        "sum-column",
        "sales.csv has a header line and the columns item,amount. Print the sum of the amount "
        "column.",
        "out_is 172",
        "tail -n +2 sales.csv | awk -F, '{s += $2} END {print s}'",
        {"sales.csv": _lines("item,amount", "pen,12", "book,100", "bag,45", "ink,15")},
    ),
    BashTask(
        "replace-in-file",
        "In config.ini, replace every occurrence of localhost with db.internal, changing the "
        "file in place.",
        "file_is config.ini $'[db]\\nhost = db.internal\\nbackup = db.internal:5433\\nport = 5432'",
        "sed -i 's/localhost/db.internal/g' config.ini",
        {
            "config.ini": _lines(
                "[db]", "host = localhost", "backup = localhost:5433", "port = 5432"
            )
        },
    ),
    BashTask(
        "make-executable",
        "Make every .sh file in scripts/ executable by its owner; leave other files alone.",
        "[ -x scripts/build.sh ] && [ -x scripts/deploy.sh ] && [ ! -x scripts/notes.txt ]",
        "chmod u+x scripts/*.sh",
        {
            "scripts/build.sh": "echo build\n",
            "scripts/deploy.sh": "echo deploy\n",
            "scripts/notes.txt": "notes\n",
        },
    ),
    BashTask(
        "delete-empty-files",
        "Delete every empty file in the folder tmp/ (and its subfolders); keep the others.",
        "[ ! -e tmp/a.log ] && [ ! -e tmp/sub/c.log ] && [ -s tmp/b.log ] && [ -d tmp/sub ]",
        "find tmp -type f -empty -delete",
        {"tmp/a.log": "", "tmp/b.log": "data\n", "tmp/sub/c.log": "", "tmp/sub/d.log": "more\n"},
    ),
    BashTask(
        "files-with-todo",
        "Print the paths (relative to this folder, like src/a.py) of the files under src/ "
        "that contain the word TODO, one per line, sorted.",
        "out_is $'src/a.py\\nsrc/lib/c.py'",
        "grep -rl TODO src | sort",
        {
            "src/a.py": "# TODO: fix\n",
            "src/b.py": "print('done')\n",
            "src/lib/c.py": "x = 1  # TODO later\n",
            "README": "TODO outside src\n",
        },
    ),
    BashTask(
        "count-word",
        "How many times does the word error (lower case, as a whole word) occur in app.log? "
        "Print only the number.",
        "out_is 4",
        "grep -ow error app.log | wc -l",
        {
            "app.log": _lines(
                "error: disk full",
                "an error and another error",
                "errors: 0",
                "ERROR upper",
                "no problem",
                "last error",
            )
        },
    ),
    BashTask(
        "first-lines",
        "Print the first 3 lines of poem.txt.",
        "out_is $'one\\ntwo\\nthree'",
        "head -n 3 poem.txt",
        {"poem.txt": _lines("one", "two", "three", "four", "five")},
    ),
    BashTask(
        "last-line",
        "Print the last line of log.txt.",
        "out_is 'finished in 3s'",
        "tail -n 1 log.txt",
        {"log.txt": _lines("start", "working", "finished in 3s")},
    ),
    BashTask(
        "make-folders",
        "Create the folders build/debug and build/release.",
        "[ -d build/debug ] && [ -d build/release ]",
        "mkdir -p build/debug build/release",
    ),
    BashTask(
        "backup-conf",
        "Copy every .conf file from etc/ into a new folder named backup/, keeping their names.",
        "[ -d backup ] && cmp -s backup/a.conf etc/a.conf && cmp -s backup/b.conf etc/b.conf "
        "&& [ ! -e backup/c.txt ] && [ -f etc/a.conf ]",
        "mkdir -p backup && cp etc/*.conf backup/",
        {"etc/a.conf": "a=1\n", "etc/b.conf": "b=2\n", "etc/c.txt": "text\n"},
    ),
    BashTask(
        "make-archive",
        "Create a gzip-compressed tar archive named site.tar.gz that contains the folder site/.",
        "tar -tzf site.tar.gz | grep -q 'site/index.html' && "
        "tar -tzf site.tar.gz | grep -q 'site/css/main.css'",
        "tar -czf site.tar.gz site",
        {"site/index.html": "<h1>hi</h1>\n", "site/css/main.css": "body {}\n"},
    ),
    BashTask(
        "extract-archive",
        "Extract the archive bundle.tar into a new folder named out/.",
        "file_is out/bundle/readme.txt 'read me' && file_is out/bundle/data/x.txt 42",
        "mkdir -p out && tar -xf bundle.tar -C out",
        {"bundle/readme.txt": "read me\n", "bundle/data/x.txt": "42\n"},
        "tar -cf bundle.tar bundle && rm -r bundle",
    ),
    BashTask(
        "largest-number",
        "numbers.txt holds one integer per line. Print the largest of them.",
        "out_is 120",
        "sort -n numbers.txt | tail -n 1",
        {"numbers.txt": _lines("17", "-4", "120", "99", "8", "-300")},
    ),
    BashTask(
        "upper-case",
        "Write the contents of name.txt converted to upper case into a new file upper.txt.",
        "file_is upper.txt $'ADA LOVELACE\\nALAN TURING' "
        "&& file_is name.txt $'Ada Lovelace\\nalan turing'",
        "tr '[:lower:]' '[:upper:]' < name.txt > upper.txt",
        {"name.txt": _lines("Ada Lovelace", "alan turing")},
    ),
    BashTask(
        "csv-column",
        "users.csv has a header line and the columns name,email,role. Print the email column "
        "without the header, one address per line.",
        "out_is $'ann@example.com\\nbob@example.org\\ncy@example.net'",
        "tail -n +2 users.csv | cut -d, -f2",
        {
            "users.csv": _lines(
                "name,email,role",
                "ann,ann@example.com,admin",
                "bob,bob@example.org,user",
                "cy,cy@example.net,user",
            )
        },
    ),
    BashTask(
        "env-value",
        "settings.env holds lines like NAME=value. Print the value of GREETING, and nothing else.",
        "out_is 'hello world'",
        "grep '^GREETING=' settings.env | cut -d= -f2-",
        {"settings.env": _lines("USER=ann", "GREETING=hello world", "GREETING_COLOR=blue")},
    ),
    BashTask(
        "count-folders",
        "Print the number of folders inside projects/ at any depth, not counting projects/ itself.",
        "out_is 4",
        "find projects -mindepth 1 -type d | wc -l",
        {
            "projects/a/readme": "a\n",
            "projects/a/src/main.c": "int x;\n",
            "projects/b/readme": "b\n",
            "projects/top.txt": "t\n",
        },
        "mkdir -p projects/c",
    ),
    BashTask(
        "dedupe-in-place",
        "Remove the duplicate lines from emails.txt in place, keeping the first occurrence of "
        "each line and the original order.",
        "file_is emails.txt $'z@x.org\\na@x.org\\nm@x.org'",
        "awk '!seen[$0]++' emails.txt > emails.tmp && mv emails.tmp emails.txt",
        {"emails.txt": _lines("z@x.org", "a@x.org", "z@x.org", "m@x.org", "a@x.org")},
    ),
    BashTask(
        "sort-descending",
        "Sort the numbers in scores.txt from largest to smallest and write them, one per line, "
        "to sorted.txt.",
        "file_is sorted.txt $'100\\n42\\n9\\n7\\n-1'",
        "sort -rn scores.txt > sorted.txt",
        {"scores.txt": _lines("7", "42", "-1", "100", "9")},
    ),
    BashTask(
        "checksum",
        "Write the SHA-256 checksum of release.bin (only its 64 hexadecimal digits) into the "
        "file release.sha256.",
        '[ "$(tr -d "[:space:]" < release.sha256)" = "$(sha256sum release.bin | cut -c1-64)" ]',
        "sha256sum release.bin | cut -d' ' -f1 > release.sha256",
        {"release.bin": "binary-ish payload 0123456789\n"},
    ),
    BashTask(
        "newest-file",
        "Print the name of the most recently modified file in reports/.",
        "out_is march.txt",
        "ls -t reports | head -n 1",
        {"reports/jan.txt": "1\n", "reports/feb.txt": "2\n", "reports/march.txt": "3\n"},
        "touch -d '2024-01-31 12:00' reports/jan.txt; touch -d '2024-02-29 12:00' reports/feb.txt;"
        " touch -d '2024-03-31 12:00' reports/march.txt; touch -d '2023-12-01' reports",
    ),
    BashTask(
        "delete-old",
        "Delete the files in cache/ that were last modified more than 30 days ago; keep the "
        "newer ones.",
        "[ ! -e cache/old1.bin ] && [ ! -e cache/old2.bin ] && [ -f cache/new.bin ]",
        "find cache -type f -mtime +30 -delete",
        {"cache/old1.bin": "o\n", "cache/old2.bin": "o\n", "cache/new.bin": "n\n"},
        "touch -d '40 days ago' cache/old1.bin; touch -d '400 days ago' cache/old2.bin",
    ),
    BashTask(
        "top-words",
        "Print the 3 most frequent words of text.txt (ignoring case), one per line, the most "
        "frequent first.",
        "out_is $'the\\ncat\\nsat'",
        "tr -s '[:space:]' '\\n' < text.txt | tr '[:upper:]' '[:lower:]' | sort | uniq -c "
        "| sort -rn | head -n 3 | awk '{print $2}'",
        {"text.txt": _lines("The cat sat on the mat", "the cat sat", "The dog saw THE cat")},
    ),
    BashTask(
        "total-size",
        "Print the total size in bytes of all the files under assets/ (folders not counted).",
        "out_is 1300",
        "find assets -type f -printf '%s\\n' | awk '{s += $1} END {print s}'",
        {"assets/a.bin": "a" * 1000, "assets/img/b.bin": "b" * 200, "assets/img/c.bin": "c" * 100},
    ),
    BashTask(
        "join-lines",
        "Print the lines of items.txt joined into one line, separated by commas.",
        "out_is 'milk,eggs,bread'",
        "paste -sd, items.txt",
        {"items.txt": _lines("milk", "eggs", "bread")},
    ),
    BashTask(
        "count-error-lines",
        "Print how many lines of server.log contain the text ERROR.",
        "out_is 3",
        "grep -c ERROR server.log",
        {
            "server.log": _lines(
                "INFO start", "ERROR one", "WARN slow", "ERROR two ERROR", "INFO ok", "ERROR three"
            )
        },
    ),
    BashTask(
        "move-images",
        "Move all the .jpg files of this folder into a folder named images/ (create it).",
        "[ -f images/a.jpg ] && [ -f images/b.jpg ] && [ ! -e a.jpg ] && [ ! -e b.jpg ] "
        "&& [ -f c.png ]",
        "mkdir -p images && mv ./*.jpg images/",
        {"a.jpg": "A", "b.jpg": "B", "c.png": "C"},
    ),
    BashTask(
        "lower-case-names",
        "Rename every file in photos/ so that its name is all lower case.",
        "[ -f photos/beach.jpg ] && [ -f photos/city_night.png ] && [ -f photos/keep.gif ] "
        '&& [ "$(ls photos | wc -l)" -eq 3 ]',
        'for f in photos/*; do b=$(basename "$f"); l=$(echo "$b" | tr "[:upper:]" "[:lower:]"); '
        '[ "$b" = "$l" ] || mv "$f" "photos/$l"; done',
        {"photos/BEACH.JPG": "1", "photos/City_Night.png": "2", "photos/keep.gif": "3"},
    ),
    BashTask(
        "remove-blank-lines",
        "Delete the blank lines (empty, or only spaces and tabs) from draft.txt, in place.",
        "file_is draft.txt $'Title\\nfirst\\nsecond'",
        "sed -i '/^[[:space:]]*$/d' draft.txt",
        {"draft.txt": "Title\n\n   \nfirst\n\t\nsecond\n\n"},
    ),
    BashTask(
        "line-range",
        "Print lines 4 to 6 of book.txt.",
        "out_is $'four\\nfive\\nsix'",
        "sed -n '4,6p' book.txt",
        {"book.txt": _lines("one", "two", "three", "four", "five", "six", "seven")},
    ),
    BashTask(
        "new-lines-only",
        "old.txt and new.txt are sorted lists. Print the lines that are in new.txt but not in "
        "old.txt.",
        "out_is $'cherry\\nfig'",
        "comm -13 old.txt new.txt",
        {
            "old.txt": _lines("apple", "banana", "date"),
            "new.txt": _lines("apple", "cherry", "date", "fig"),
        },
    ),
    BashTask(
        "rename-function",
        "In every .py file under app/, replace the name old_function with new_function.",
        "! grep -rq --include='*.py' old_function app "
        '&& [ "$(grep -rl new_function app | wc -l)" -eq 2 ] '
        "&& file_is app/notes.txt old_function",
        "find app -name '*.py' -exec sed -i 's/old_function/new_function/g' {} +",
        {
            "app/a.py": "def old_function():\n    pass\n",
            "app/sub/b.py": "from a import old_function\nold_function()\n",
            "app/notes.txt": "old_function\n",
        },
    ),
    BashTask(
        "symlink",
        "Create a symbolic link named latest that points to releases/v2.1.",
        '[ -L latest ] && [ "$(readlink latest)" = releases/v2.1 ] && file_is latest/VERSION 2.1',
        "ln -s releases/v2.1 latest",
        {"releases/v2.0/VERSION": "2.0\n", "releases/v2.1/VERSION": "2.1\n"},
    ),
    BashTask(
        "count-characters",
        "Print the number of characters in secret.txt, not counting newline characters.",
        "out_is 15",
        "tr -d '\\n' < secret.txt | wc -c",
        {"secret.txt": _lines("correct", "horse", "bat")},
    ),
    BashTask(
        "hello-script",
        "Create an executable Bash script hello.sh in this folder that prints Hello, World! "
        "when it is run.",
        '[ -x hello.sh ] && [ "$(./hello.sh)" = "Hello, World!" ]',
        "printf '#!/bin/bash\\necho \"Hello, World!\"\\n' > hello.sh && chmod +x hello.sh",
    ),
    BashTask(
        "large-files",
        "Print the paths of the files under media/ that are larger than 1 MiB (1048576 bytes), "
        "sorted, one per line.",
        "out_is $'media/a/big.iso\\nmedia/movie.mkv'",
        "find media -type f -size +1048576c | sort",
        {"media/small.txt": "s\n"},
        "mkdir -p media/a && head -c 2000000 /dev/zero > media/movie.mkv && "
        "head -c 1048577 /dev/zero > media/a/big.iso && head -c 1048576 /dev/zero > media/edge",
    ),
    BashTask(
        "reverse-lines",
        "Print the lines of steps.txt in reverse order, the last line first.",
        "out_is $'third\\nsecond\\nfirst'",
        "tac steps.txt",
        {"steps.txt": _lines("first", "second", "third")},
    ),
    BashTask(
        "filter-csv",
        "people.csv has a header line and the columns name,age,city. Print the names of the "
        "people older than 30, one per line, in the order of the file.",
        "out_is $'Bea\\nDan'",
        "awk -F, 'NR > 1 && $2 > 30 {print $1}' people.csv",
        {
            "people.csv": _lines(
                "name,age,city", "Al,30,Oslo", "Bea,41,Rome", "Cy,25,Lima", "Dan,31,Kyiv"
            )
        },
    ),
    BashTask(
        "extract-emails",
        "Print every email address that appears in contacts.txt, one per line, in the order "
        "they appear.",
        "out_is $'ann@example.com\\nbob.smith@mail.org\\ncy@work.io'",
        "grep -oE '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]+' contacts.txt",
        {
            "contacts.txt": _lines(
                "Ann <ann@example.com>",
                "no address here",
                "Bob: bob.smith@mail.org, Cy: cy@work.io",
            )
        },
    ),
    BashTask(
        "private-key",
        "Make secret.key readable and writable by its owner only, with no permissions at all "
        "for the group and others.",
        '[ "$(stat -c %a secret.key)" = 600 ]',
        "chmod 600 secret.key",
        {"secret.key": "key\n"},
        "chmod 644 secret.key",
    ),
    BashTask(
        "distinct-users",
        "passwd.txt has lines of fields separated by ':'; the first field is a user name. "
        "Print how many distinct user names it holds.",
        "out_is 3",
        "cut -d: -f1 passwd.txt | sort -u | wc -l",
        {"passwd.txt": _lines("ann:x:1000", "bob:x:1001", "ann:x:1000", "cy:x:1002")},
    ),
    BashTask(
        "word-per-line-count",
        "Print the number of words in essay.txt.",
        "out_is 9",
        "wc -w < essay.txt",
        {"essay.txt": _lines("Bash is a shell", "", "and a   language for  scripts")},
    ),
    BashTask(
        "list-by-extension",
        "Print the distinct file extensions (the part after the last dot, without the dot) of "
        "the files in mixed/, one per line, sorted.",
        "out_is $'csv\\njson\\ntxt'",
        "ls mixed | sed 's/.*\\.//' | sort -u",
        {"mixed/a.txt": "", "mixed/b.csv": "", "mixed/c.json": "", "mixed/d.TXT.txt": ""},
    ),
)
