#!/usr/bin/env python3
"""Writes datasets/data/pt_corpus.jsonl: a small plain-text corpus ({"text": ...} rows) for `megatron pt`,
written for Megaswift. Most paragraphs describe facts this script computes (number properties, calendars,
shapes, travel times) in English and Chinese; a few short paragraphs below are hand-written. Deterministic.
    python3 datasets/tools/make_pt_corpus.py
"""
import datetime
import json
import math
import pathlib
import random

HANDWRITTEN = [
    "Water moves in a cycle. The sun warms lakes and oceans, and some of the water rises as vapor. High in the air the vapor cools and gathers into clouds. When the droplets in a cloud grow heavy, they fall as rain or snow, and rivers carry the water back toward the sea.",
    "A seed holds a tiny plant and a store of food. When it has water, warmth and air, the seed swells and a root pushes downward. Soon a shoot climbs toward the light, opens its first leaves and begins to make its own food from sunlight.",
    "Maps shrink the world onto paper or a screen. A scale tells how far one centimeter on the map is on the ground, a legend explains the symbols, and a compass rose shows which way is north.",
    "A good recipe lists its ingredients first and then gives the steps in order. Reading the whole recipe before starting helps a cook gather the tools, measure everything and avoid surprises halfway through.",
    "Bicycles turn the push of a rider's legs into forward motion. The pedals turn a chain, the chain turns the rear wheel, and gears let the rider trade speed for easier pedaling on a hill.",
    "Libraries keep books in an order that makes them easy to find. Novels are often sorted by the author's family name, while other books are grouped by subject, so that books on the same topic stand side by side.",
    "Computers store every kind of information as numbers. A letter, a color in a picture or a note in a song is written as a pattern of ones and zeros that the machine can copy, compare and change very quickly.",
    "The moon does not make its own light. It reflects sunlight, and as it travels around the Earth we see different amounts of its lit side, from a thin crescent to a full, round disk.",
    "Bread rises because yeast feeds on sugar in the dough and gives off small bubbles of gas. Kneading builds a stretchy network in the dough that traps the bubbles, and baking sets the shape.",
    "Tides are the slow rise and fall of the sea. They come mainly from the pull of the moon, and most coasts see two high tides and two low tides roughly every day.",
    "A thermometer measures how warm or cold something is. In a liquid thermometer the liquid expands as it warms and climbs the narrow tube, and the marks beside the tube give the temperature.",
    "Learning a new skill usually goes faster with short, regular practice than with one long session. Each practice strengthens what was learned before and shows what still needs work.",
    "水在自然界中不断循环。太阳晒热江河湖海，一部分水变成水蒸气升到空中。水蒸气遇冷聚成云，云里的小水滴越积越多，就变成雨或雪落下来，再顺着河流回到大海。",
    "一粒种子里藏着小小的胚芽和养料。有了水分、温度和空气，种子就会膨胀，先长出根向下扎，再长出嫩芽向上钻，展开叶子，开始利用阳光制造养分。",
    "地图把广阔的世界缩小到纸上。比例尺告诉我们图上一厘米代表实际多远，图例解释各种符号的意思，指向标则指明哪边是北。",
    "自行车把骑车人蹬踏的力量变成前进的动力。脚踏板带动链条，链条带动后轮，变速器让人在上坡时骑得更省力。",
    "月亮本身不发光，它反射的是太阳的光。月亮绕着地球转，我们看到它被照亮的部分时多时少，于是有了新月、上弦月、满月和下弦月。",
    "面包会发起来，是因为酵母吃掉面团里的糖，放出许多小气泡。揉面让面团变得有弹性，能把气泡留住，烘烤后形状就固定下来。",
    "学习一项新技能时，每天坚持短时间的练习，往往比偶尔长时间练习效果更好。每次练习都会巩固已经学会的东西，也能发现还需要改进的地方。",
    "计算机用数字来保存各种信息。文字、图片里的颜色、音乐里的音符，都被写成由0和1组成的编码，机器可以飞快地复制、比较和修改它们。",
]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]


def factorize(n):
    factors, d = [], 2
    while d * d <= n:
        while n % d == 0:
            factors.append(d)
            n //= d
        d += 1
    if n > 1:
        factors.append(n)
    return factors


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def number_en(n):
    parts = [f"The number {n} is {'even' if n % 2 == 0 else 'odd'}."]
    f = factorize(n)
    if len(f) == 1:
        parts.append(f"It is a prime number, so its only divisors are 1 and {n}.")
    else:
        parts.append(f"It is not prime: it can be written as {' x '.join(map(str, f))}, and it has {len(divisors(n))} divisors in all.")
    parts.append(f"In binary it is written {bin(n)[2:]}, and in hexadecimal {hex(n)[2:].upper()}.")
    parts.append(f"Its digits add up to {sum(map(int, str(n)))}, and its square is {n * n}.")
    root = math.isqrt(n)
    if root * root == n:
        parts.append(f"It is itself a perfect square, {root} times {root}.")
    return " ".join(parts)


def number_zh(n):
    parts = [f"{n}是一个{'偶数' if n % 2 == 0 else '奇数'}。"]
    f = factorize(n)
    if len(f) == 1:
        parts.append(f"它是质数，只有1和{n}两个约数。")
    else:
        parts.append(f"它是合数，可以分解为{' × '.join(map(str, f))}，一共有{len(divisors(n))}个约数。")
    parts.append(f"用二进制表示是{bin(n)[2:]}，各位数字之和是{sum(map(int, str(n)))}，它的平方是{n * n}。")
    return "".join(parts)


def calendar_en(year):
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    jan1 = WEEKDAYS_EN[datetime.date(year, 1, 1).weekday()]
    dec31 = WEEKDAYS_EN[datetime.date(year, 12, 31).weekday()]
    return (f"The year {year} {'is' if leap else 'is not'} a leap year, so February has {29 if leap else 28} days "
            f"and the year has {366 if leap else 365} days. Its first day is a {jan1} and its last day is a {dec31}.")


def calendar_zh(year):
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    jan1 = WEEKDAYS_ZH[datetime.date(year, 1, 1).weekday()]
    return (f"{year}年{'是' if leap else '不是'}闰年，二月有{29 if leap else 28}天，全年共{366 if leap else 365}天。"
            f"这一年的1月1日是{jan1}。")


def month_en(year, month):
    first = datetime.date(year, month, 1)
    nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
    days = (nxt - first).days
    return (f"{MONTHS_EN[month - 1]} {year} has {days} days. Its first day is a {WEEKDAYS_EN[first.weekday()]}, "
            f"and its last day is a {WEEKDAYS_EN[(nxt - datetime.timedelta(days=1)).weekday()]}.")


def fmt(x):
    x = round(x, 2)
    return str(int(x)) if x == int(x) else f"{x:g}"


def rectangle_en(r):
    a, b = r.randint(2, 40), r.randint(2, 40)
    return (f"A rectangle that is {a} meters long and {b} meters wide has an area of {a * b} square meters "
            f"and a perimeter of {2 * (a + b)} meters. Its diagonal is about {fmt(math.hypot(a, b))} meters long.")


def rectangle_zh(r):
    a, b = r.randint(2, 40), r.randint(2, 40)
    return f"一个长{a}米、宽{b}米的长方形，面积是{a * b}平方米，周长是{2 * (a + b)}米。"


def circle_en(r):
    rad = r.randint(1, 30)
    return (f"A circle with a radius of {rad} centimeters has a diameter of {2 * rad} centimeters, a circumference "
            f"of about {fmt(2 * math.pi * rad)} centimeters and an area of about {fmt(math.pi * rad * rad)} square centimeters.")


def travel_en(r):
    speed, hours = r.choice([40, 50, 60, 80, 90, 100, 120]), r.randint(1, 12) / 2
    dist = speed * hours
    return (f"A train moving at a steady {speed} kilometers per hour covers {fmt(dist)} kilometers in "
            f"{fmt(hours)} hours. At the same speed, 100 kilometers take {fmt(100 / speed * 60)} minutes.")


def travel_zh(r):
    speed, hours = r.choice([40, 50, 60, 80, 90, 100, 120]), r.randint(1, 12) / 2
    return f"一列火车以每小时{speed}千米的速度匀速行驶，{fmt(hours)}小时可以行驶{fmt(speed * hours)}千米。"


def table_en(n):
    return f"The multiplication table of {NUMBER_WORDS[n]}: " + ", ".join(f"{n} x {k} = {n * k}" for k in range(1, 13)) + "."


def main():
    r = random.Random(7)
    texts = list(HANDWRITTEN)
    texts += [number_en(n) for n in range(2, 302)]
    texts += [number_zh(n) for n in range(2, 152)]
    texts += [calendar_en(y) for y in range(1970, 2051)]
    texts += [calendar_zh(y) for y in range(1990, 2041)]
    texts += [month_en(y, m) for y in (2023, 2024, 2025) for m in range(1, 13)]
    texts += [rectangle_en(r) for _ in range(60)] + [rectangle_zh(r) for _ in range(40)]
    texts += [circle_en(r) for _ in range(40)]
    texts += [travel_en(r) for _ in range(40)] + [travel_zh(r) for _ in range(30)]
    texts += [table_en(n) for n in range(2, 13)]
    out = pathlib.Path(__file__).resolve().parent.parent / "data" / "pt_corpus.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    print(f"wrote {len(texts)} paragraphs ({out.stat().st_size} bytes) to {out}")


if __name__ == "__main__":
    main()
