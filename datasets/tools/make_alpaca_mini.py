#!/usr/bin/env python3
"""Writes datasets/data/alpaca_mini_en.jsonl and alpaca_mini_zh.jsonl: small instruction datasets in alpaca
format ({"instruction", "input", "output"}), written for Megaswift. Every answer is computed by this script
(arithmetic, unit conversion, string edits, number facts, calendar steps, short code) or comes from the short
hand-written definitions below, so it is correct and original. Deterministic: rerunning gives the same files.
    python3 datasets/tools/make_alpaca_mini.py
"""
import json
import math
import pathlib
import random

ROWS_PER_LANGUAGE = 320

WORDS_EN = ["planet", "garden", "window", "yellow", "bridge", "rocket", "pencil", "orange", "silver", "forest",
            "kitchen", "market", "summer", "winter", "castle", "button", "candle", "dragon", "island", "ladder",
            "mirror", "pepper", "rabbit", "saddle", "teapot", "violin", "wallet", "zipper", "anchor", "basket",
            "cactus", "dolphin", "engine", "falcon", "guitar", "helmet", "jungle", "kettle", "lantern", "meadow"]
VERBS_EN = [("walk", "walked"), ("play", "played"), ("open", "opened"), ("watch", "watched"), ("clean", "cleaned"),
            ("cook", "cooked"), ("paint", "painted"), ("visit", "visited"), ("call", "called"), ("help", "helped"),
            ("wash", "washed"), ("climb", "climbed"), ("fix", "fixed"), ("plant", "planted"), ("carry", "carried")]
SUBJECTS_EN = [("I", "I"), ("We", "we"), ("They", "they"), ("You", "you")]
OBJECTS_EN = {"walk": "to the park", "play": "chess", "open": "the door", "watch": "the birds", "clean": "the room",
              "cook": "dinner", "paint": "the fence", "visit": "our neighbors", "call": "the office",
              "help": "the new student", "wash": "the dishes", "climb": "the hill", "fix": "the bicycle",
              "plant": "tomatoes", "carry": "the boxes"}
DEFINITIONS_EN = [
    ("a prime number", "A prime number is a whole number greater than 1 whose only divisors are 1 and itself, such as 2, 3, 5 and 7."),
    ("a triangle", "A triangle is a flat shape with three straight sides and three corners; its angles add up to 180 degrees."),
    ("evaporation", "Evaporation is the process in which a liquid turns into a gas, for example when water on a warm road dries up."),
    ("a noun", "A noun is a word that names a person, place, thing or idea, such as 'teacher', 'city' or 'freedom'."),
    ("a verb", "A verb is a word that describes an action or a state, such as 'run', 'think' or 'be'."),
    ("an even number", "An even number is an integer that can be divided by 2 with no remainder, such as 4, 10 or 36."),
    ("a variable in programming", "A variable is a named place in a program that stores a value, which the program can read and change."),
    ("a function in programming", "A function is a named block of code that takes inputs, does a task and can return a result, so the task can be reused."),
    ("a loop in programming", "A loop repeats a block of code, either a fixed number of times or while a condition stays true."),
    ("gravity", "Gravity is the force that pulls objects with mass toward each other; on Earth it makes things fall to the ground."),
    ("a circle's radius", "The radius of a circle is the distance from its center to any point on its edge; it is half of the diameter."),
    ("an average", "The average (mean) of a list of numbers is their sum divided by how many numbers there are."),
    ("a fraction", "A fraction describes part of a whole, written as a numerator over a denominator, such as 3/4."),
    ("a percentage", "A percentage is a number expressed as parts per hundred; 25% means 25 out of every 100."),
    ("an adjective", "An adjective is a word that describes a noun, such as 'tall', 'blue' or 'quiet'."),
    ("a sorting algorithm", "A sorting algorithm is a step-by-step method for putting items in order, for example from smallest to largest."),
    ("a synonym", "A synonym is a word with the same or nearly the same meaning as another word, like 'big' and 'large'."),
    ("an antonym", "An antonym is a word with the opposite meaning of another word, like 'hot' and 'cold'."),
    ("a square number", "A square number is the result of multiplying an integer by itself, such as 9 = 3 x 3."),
    ("a rectangle's area", "The area of a rectangle is its length multiplied by its width, measured in square units."),
]
WORDS_ZH = ["天气很好", "我们去公园", "今天星期五", "学习很快乐", "春天来了", "小猫在睡觉", "火车开得快", "月亮很圆",
            "他喜欢读书", "水果很新鲜", "山上有雪", "河水很清", "大家一起唱歌", "图书馆很安静", "早睡早起",
            "雨停了", "风吹过树林", "孩子们在跑步", "窗外有鸟", "妈妈在做饭"]
DEFINITIONS_ZH = [
    ("质数", "质数是大于1的整数，除了1和它本身以外没有其他约数，例如2、3、5、7。"),
    ("三角形", "三角形是由三条线段首尾相连组成的平面图形，三个内角之和为180度。"),
    ("蒸发", "蒸发是液体变成气体的过程，比如地上的水在太阳下慢慢变干。"),
    ("名词", "名词是表示人、地点、事物或概念名称的词，例如“老师”“城市”“自由”。"),
    ("动词", "动词是表示动作或状态的词，例如“跑”“想”“是”。"),
    ("偶数", "偶数是能被2整除的整数，例如4、10、36。"),
    ("变量（编程）", "变量是程序中有名字的存储位置，用来保存数值，程序可以读取和修改它。"),
    ("函数（编程）", "函数是一段有名字的代码，接收输入、完成特定任务并可以返回结果，方便重复使用。"),
    ("循环（编程）", "循环会重复执行一段代码，可以执行固定次数，也可以在条件成立时一直执行。"),
    ("重力", "重力是地球对物体的吸引力，它让物体落向地面。"),
    ("半径", "半径是圆心到圆上任意一点的距离，等于直径的一半。"),
    ("平均数", "平均数是一组数的总和除以这组数的个数。"),
    ("分数", "分数表示整体的一部分，写成分子在上、分母在下的形式，例如3/4。"),
    ("百分数", "百分数表示一个数是另一个数的百分之几，25%表示每100份中占25份。"),
    ("形容词", "形容词是用来描述人或事物性质、状态的词，例如“高”“蓝”“安静”。"),
    ("近义词", "近义词是意思相同或相近的词，例如“美丽”和“漂亮”。"),
    ("反义词", "反义词是意思相反的词，例如“冷”和“热”。"),
    ("平方数", "平方数是一个整数乘以它自己得到的数，例如9 = 3 × 3。"),
]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DAYS_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]


def is_prime(n):
    if n < 2:
        return False
    return all(n % d for d in range(2, int(math.isqrt(n)) + 1))


def smallest_factor(n):
    return next(d for d in range(2, n + 1) if n % d == 0)


def zh_number(n):
    """Chinese numerals for 0 <= n <= 9999 as usually written (十五, 一百零五, 一千零一十)."""
    digits = "零一二三四五六七八九"
    if n == 0:
        return "零"
    if 10 <= n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")]
    out, pending_zero, started = "", False, False
    for value, unit in units:
        d = n // value % 10
        if d == 0:
            pending_zero = started
            continue
        if pending_zero:
            out += "零"
        out += digits[d] + unit
        started, pending_zero = True, False
    return out


def fmt(x):
    """A number without a pointless .0, rounded to at most two decimals."""
    x = round(x, 2)
    return str(int(x)) if x == int(x) else f"{x:g}"


# ---- English tasks: each returns (instruction, input, output) ----

def en_add(r):
    a, b = r.randint(10, 999), r.randint(10, 999)
    return f"What is {a} + {b}?", "", f"{a} + {b} = {a + b}."


def en_sub(r):
    a, b = sorted((r.randint(10, 999), r.randint(10, 999)), reverse=True)
    return f"Subtract {b} from {a}.", "", f"{a} - {b} = {a - b}."


def en_mul(r):
    a, b = r.randint(3, 99), r.randint(3, 99)
    return f"Calculate {a} times {b}.", "", f"{a} x {b} = {a * b}."


def en_div(r):
    b, q = r.randint(2, 25), r.randint(2, 40)
    return f"What is {b * q} divided by {b}?", "", f"{b * q} / {b} = {q}."


def en_convert(r):
    kind = r.randrange(5)
    if kind == 0:
        km = r.randint(1, 50) / 2
        return f"Convert {fmt(km)} kilometers to meters.", "", f"{fmt(km)} km = {fmt(km * 1000)} m, because 1 km is 1000 m."
    if kind == 1:
        h = r.randint(1, 12)
        return f"How many minutes are in {h} hours?", "", f"{h} hours = {h * 60} minutes, since each hour has 60 minutes."
    if kind == 2:
        c = r.randint(-20, 40)
        return f"Convert {c} degrees Celsius to Fahrenheit.", "", f"{c} °C = {fmt(c * 9 / 5 + 32)} °F, using F = C x 9/5 + 32."
    if kind == 3:
        kg = r.randint(1, 40) / 4
        return f"How many grams is {fmt(kg)} kilograms?", "", f"{fmt(kg)} kg = {fmt(kg * 1000)} g."
    cm = r.randint(1, 500)
    return f"Express {cm} centimeters in meters.", "", f"{cm} cm = {fmt(cm / 100)} m."


def en_reverse(r):
    w = r.choice(WORDS_EN)
    return "Reverse the letters of the given word.", w, w[::-1]


def en_upper(r):
    words = " ".join(r.sample(WORDS_EN, 3))
    return "Convert the following text to uppercase.", words, words.upper()


def en_count_letter(r):
    w = r.choice(WORDS_EN)
    ch = r.choice(sorted(set(w)))
    n = w.count(ch)
    return f"How many times does the letter '{ch}' appear in the word '{w}'?", "", f"The letter '{ch}' appears {n} time{'s' if n != 1 else ''} in '{w}'."


def en_sort(r):
    nums = r.sample(range(1, 100), r.randint(4, 7))
    order = r.choice(["ascending", "descending"])
    result = sorted(nums, reverse=order == "descending")
    return f"Sort these numbers in {order} order.", ", ".join(map(str, nums)), ", ".join(map(str, result))


def en_prime(r):
    n = r.randint(2, 200)
    if is_prime(n):
        return f"Is {n} a prime number?", "", f"Yes, {n} is a prime number: it has no divisors other than 1 and itself."
    d = smallest_factor(n)
    return f"Is {n} a prime number?", "", f"No, {n} is not prime because {n} = {d} x {n // d}."


def en_gcd(r):
    a, b = r.randint(6, 120), r.randint(6, 120)
    return f"Find the greatest common divisor of {a} and {b}.", "", f"The greatest common divisor of {a} and {b} is {math.gcd(a, b)}."


def en_average(r):
    nums = [r.randint(1, 50) for _ in range(r.randint(3, 6))]
    return "Compute the average of these numbers.", ", ".join(map(str, nums)), f"The sum is {sum(nums)} and there are {len(nums)} numbers, so the average is {'' if sum(nums) * 100 % len(nums) == 0 else 'about '}{fmt(sum(nums) / len(nums))}."


def en_days(r):
    start, k = r.randrange(7), r.randint(2, 40)
    return f"If today is {DAYS_EN[start]}, what day of the week will it be in {k} days?", "", f"{k} days is {k // 7} weeks and {k % 7} days, so it will be {DAYS_EN[(start + k) % 7]}."


def en_past(r):
    (base, past), (subj, _) = r.choice(VERBS_EN), r.choice(SUBJECTS_EN)
    return "Rewrite the sentence in the past tense.", f"{subj} {base} {OBJECTS_EN[base]} every day.", f"{subj} {past} {OBJECTS_EN[base]} every day."


def en_define(r):
    term, text = r.choice(DEFINITIONS_EN)
    return f"Define {term} in one or two sentences.", "", text


def en_code(r):
    kind, n = r.randrange(4), r.randint(2, 12)
    if kind == 0:
        return (f"Write a Python function that multiplies a number by {n}.", "",
                f"def times_{n}(x):\n    return x * {n}\n\nFor example, times_{n}(3) returns {3 * n}.")
    if kind == 1:
        return (f"Write a Python function that returns the first {n} square numbers as a list.", "",
                f"def first_squares():\n    return [i * i for i in range(1, {n + 1})]\n\nIt returns {[i * i for i in range(1, n + 1)]}.")
    if kind == 2:
        return (f"Write a Python loop that prints the numbers from 1 to {n}.", "",
                f"for i in range(1, {n + 1}):\n    print(i)")
    return (f"Write a Python expression that checks whether a number x is divisible by {n}.", "",
            f"x % {n} == 0\n\nIt is True exactly when dividing x by {n} leaves no remainder.")


EN_TASKS = [en_add, en_sub, en_mul, en_div, en_convert, en_reverse, en_upper, en_count_letter, en_sort, en_prime,
            en_gcd, en_average, en_days, en_past, en_define, en_code]


# ---- Chinese tasks ----

def zh_add(r):
    a, b = r.randint(10, 999), r.randint(10, 999)
    return f"计算{a}加{b}等于多少？", "", f"{a} + {b} = {a + b}。"


def zh_sub(r):
    a, b = sorted((r.randint(10, 999), r.randint(10, 999)), reverse=True)
    return f"{a}减去{b}是多少？", "", f"{a} - {b} = {a - b}。"


def zh_mul(r):
    a, b = r.randint(3, 99), r.randint(3, 99)
    return f"请计算{a}乘以{b}。", "", f"{a} × {b} = {a * b}。"


def zh_div(r):
    b, q = r.randint(2, 25), r.randint(2, 40)
    return f"{b * q}除以{b}等于几？", "", f"{b * q} ÷ {b} = {q}。"


def zh_convert(r):
    kind = r.randrange(4)
    if kind == 0:
        km = r.randint(1, 50) / 2
        return f"{fmt(km)}千米等于多少米？", "", f"{fmt(km)}千米 = {fmt(km * 1000)}米，因为1千米等于1000米。"
    if kind == 1:
        h = r.randint(1, 12)
        return f"{h}小时是多少分钟？", "", f"{h}小时 = {h * 60}分钟，每小时有60分钟。"
    if kind == 2:
        kg = r.randint(1, 40) / 4
        return f"{fmt(kg)}千克等于多少克？", "", f"{fmt(kg)}千克 = {fmt(kg * 1000)}克。"
    yuan = r.randint(1, 200)
    return f"{yuan}元等于多少角？", "", f"{yuan}元 = {yuan * 10}角，1元等于10角。"


def zh_reverse(r):
    s = r.choice(WORDS_ZH)
    return "把下面这句话的字倒过来写。", s, s[::-1]


def zh_count_chars(r):
    s = r.choice(WORDS_ZH)
    return f"“{s}”一共有几个字？", "", f"“{s}”一共有{len(s)}个字。"


def zh_sort(r):
    nums = r.sample(range(1, 100), r.randint(4, 7))
    order = r.choice(["从小到大", "从大到小"])
    result = sorted(nums, reverse=order == "从大到小")
    return f"把下面的数按{order}的顺序排列。", "，".join(map(str, nums)), "，".join(map(str, result))


def zh_prime(r):
    n = r.randint(2, 200)
    if is_prime(n):
        return f"{n}是质数吗？", "", f"是的，{n}是质数，它只有1和它本身两个约数。"
    d = smallest_factor(n)
    return f"{n}是质数吗？", "", f"不是，因为{n} = {d} × {n // d}。"


def zh_gcd(r):
    a, b = r.randint(6, 120), r.randint(6, 120)
    return f"求{a}和{b}的最大公约数。", "", f"{a}和{b}的最大公约数是{math.gcd(a, b)}。"


def zh_average(r):
    nums = [r.randint(1, 50) for _ in range(r.randint(3, 6))]
    return "求下面这组数的平均数。", "，".join(map(str, nums)), f"总和是{sum(nums)}，共{len(nums)}个数，平均数{'是' if sum(nums) * 100 % len(nums) == 0 else '约为'}{fmt(sum(nums) / len(nums))}。"


def zh_days(r):
    start, k = r.randrange(7), r.randint(2, 40)
    return f"如果今天是{DAYS_ZH[start]}，{k}天后是星期几？", "", f"{k}天是{k // 7}周零{k % 7}天，所以是{DAYS_ZH[(start + k) % 7]}。"


def zh_numeral(r):
    n = r.randint(1, 9999)
    return f"把数字{n}写成中文数字。", "", zh_number(n)


def zh_define(r):
    term, text = r.choice(DEFINITIONS_ZH)
    return f"用一两句话解释什么是{term}。", "", text


def zh_code(r):
    kind, n = r.randrange(3), r.randint(2, 12)
    if kind == 0:
        return (f"写一个Python函数，把输入的数乘以{n}。", "",
                f"def times_{n}(x):\n    return x * {n}\n\n例如 times_{n}(3) 返回 {3 * n}。")
    if kind == 1:
        return (f"写一个Python循环，依次打印1到{n}。", "", f"for i in range(1, {n + 1}):\n    print(i)")
    return (f"写一个Python表达式，判断整数x能否被{n}整除。", "",
            f"x % {n} == 0\n\n当x除以{n}的余数为0时，结果为True。")


ZH_TASKS = [zh_add, zh_sub, zh_mul, zh_div, zh_convert, zh_reverse, zh_count_chars, zh_sort, zh_prime, zh_gcd,
            zh_average, zh_days, zh_numeral, zh_define, zh_code]


def generate(tasks, seed):
    r = random.Random(seed)
    rows, seen = [], set()
    attempts = 0
    while len(rows) < ROWS_PER_LANGUAGE:
        attempts += 1
        assert attempts < 100 * ROWS_PER_LANGUAGE, "not enough distinct prompts"
        instruction, input_, output = tasks[attempts % len(tasks)](r)  # exhausted tasks just repeat
        if (instruction, input_) in seen:
            continue
        seen.add((instruction, input_))
        rows.append({"instruction": instruction, "input": input_, "output": output})
    return rows


def self_check():
    assert zh_number(15) == "十五" and zh_number(105) == "一百零五" and zh_number(1010) == "一千零一十"
    assert zh_number(2000) == "二千" and zh_number(9999) == "九千九百九十九" and zh_number(110) == "一百一十"
    assert zh_number(1001) == "一千零一" and zh_number(30) == "三十"


def main():
    self_check()
    data = pathlib.Path(__file__).resolve().parent.parent / "data"
    for name, tasks, seed in (("alpaca_mini_en.jsonl", EN_TASKS, 20240601), ("alpaca_mini_zh.jsonl", ZH_TASKS, 20240602)):
        rows = generate(tasks, seed)
        with (data / name).open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {len(rows)} rows to {data / name}")


if __name__ == "__main__":
    main()
