"""Ten small flawed Python files, each with the one problem a review should fix."""

from __future__ import annotations

FLAWED: list[tuple[str, str, str]] = [
    (
        "stats.py",
        "def average(values):\n    total = 0\n    for v in values:\n        total += v\n"
        "    return total / len(values)\n\n\ndef largest(values):\n    return max(values)\n",
        "average divides by zero on an empty list; return 0.0 for an empty list",
    ),
    (
        "names.py",
        "def greet(name):\n    return 'Hello, ' + name + '!'\n\n\n"
        "def initials(full_name):\n    parts = full_name.split(' ')\n"
        "    return ''.join(p[0] for p in parts)\n",
        "initials fails on double spaces (empty parts); use split() without an argument",
    ),
    (
        "files.py",
        "import os\n\n\ndef read_lines(path):\n    f = open(path)\n    lines = f.readlines()\n"
        "    return lines\n\n\ndef exists(path):\n    return os.path.exists(path)\n",
        "read_lines never closes the file; use a with statement",
    ),
    (
        "cache.py",
        "def remember(key, value, store={}):\n    store[key] = value\n    return store\n\n\n"
        "def forget(store, key):\n    del store[key]\n",
        "remember shares one default dict between calls; default to None and make a new dict",
    ),
    (
        "search.py",
        "def find(items, target):\n    for i in range(len(items)):\n"
        "        if items[i] == target:\n"
        "            return i\n    return None\n\n\ndef contains(items, target):\n"
        "    return find(items, target) != None\n",
        "contains compares with != None; use 'is not None'",
    ),
    (
        "temps.py",
        "def to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 23\n\n\n"
        "def to_celsius(fahrenheit):\n    return (fahrenheit - 32) * 5 / 9\n",
        "to_fahrenheit adds 23 instead of 32",
    ),
    (
        "counter.py",
        "def count_words(text):\n    counts = {}\n    for word in text.split():\n"
        "        counts[word] = counts[word] + 1\n    return counts\n",
        "count_words raises KeyError on a new word; use counts.get(word, 0) + 1",
    ),
    (
        "config.py",
        "import json\n\n\ndef load(path):\n    with open(path) as f:\n"
        "        return json.load(f)\n\n\n"
        "def get_port(config):\n    return config['port']\n",
        "get_port fails when 'port' is missing; return config.get('port', 8080)",
    ),
    (
        "shapes.py",
        "import math\n\n\ndef circle_area(radius):\n    return math.pi * radius * 2\n\n\n"
        "def square_area(side):\n    return side * side\n",
        "circle_area multiplies by 2 instead of squaring the radius",
    ),
    (
        "paths.py",
        "def join(folder, name):\n    return folder + name\n\n\ndef extension(name):\n"
        "    return name.split('.')[1]\n",
        "join forgets the '/' between folder and name; use os.path.join",
    ),
]
