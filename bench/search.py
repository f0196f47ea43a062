"""Search over 1,000,000 complaints: p95 of a two-character Chinese word, a phone number (and its last
four digits) and a shop.

    .venv/bin/python bench/search.py                        # ~3-5 min on 2 cores (most of it loading)
    .venv/bin/python bench/search.py --complaints 200000 --runs 50
    .venv/bin/python bench/search.py --compare-trigram      # also pg_trgm's LIKE '%…%' on the description

The complaints are generated inside PostgreSQL (INSERT … SELECT over generate_series) into intake's
own tables, as migrated, so the generated search column and its GIN index are the ones served. They
are spread evenly over two years in the order they were received, as intake inserts them (so the
table's pages follow the receipt time, which the ranked search's walk over the newest matches relies
on); each description is two of FRAGMENTS (so 酸奶 is in about 1 in 30), each
phone number complained about three times, and 榴莲 (a rare word) is in 1 in 20,000, the shops are REPORTING's 280. Each query goes through
`ComplaintSearch.find`, as the API's search does, for a desk (whole mall) and a floor supervisor
(one floor); the p95 is over --runs runs of each after a warm-up. Target: p95 under 200 ms.
One run creates its database (`mall_bench_search_<pid>`) and drops it at the end, also on Ctrl+C.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import psycopg
from psycopg.rows import dict_row

from bench.common import (
    _percentile,
    add_admin_url,
    busy_share,
    create_database,
    database_url,
    drop_database,
    machine,
    postgres_facts,
    run_dropping_on_stop,
)
from services.common.migrations import apply_migrations
from services.intake.adapters.search import ComplaintSearch, SearchQuery

FRAGMENTS = [
    "买的酸奶过期了",
    "店员态度恶劣",
    "拒绝换货",
    "电梯停运半小时",
    "洗手间地面湿滑",
    "停车收费不合理",
    "衣服质量有问题",
    "价格标签与结账不符",
    "空调太冷",
    "在扶梯上摔倒",
    "手机屏幕碎了",
    "退款迟迟不到",
    "会员积分被扣",
    "餐厅上菜太慢",
    "饮料里有异物",
    "鞋子穿了两天开胶",
    "促销活动名不副实",
    "保安态度粗暴",
    "噪音太大影响休息",
    "商品缺斤少两",
    "收银员多收钱",
    "试衣间不干净",
    "化妆品过敏",
    "玩具有尖角",
    "发票开错了",
    "排队时间太长",
    "广播声音太响",
    "儿童区设施损坏",
    "外卖送错了",
    "宠物进入商场",
    "停车场照明不足",
    "卫生纸用完没补",
    "服务员不理人",
    "蛋糕不新鲜",
    "电器无法开机",
    "售后推诿",
    "押金不退",
    "充电宝无法归还",
    "导购强行推销",
    "菜里有头发",
    "包装破损",
    "赠品没给",
    "电梯按钮失灵",
    "地下车库有积水",
    "店铺提前关门",
    "价格比网上贵",
    "会员卡无法使用",
    "门口堆放杂物",
    "耳机有杂音",
    "水果腐烂",
    "店员辱骂顾客",
    "洗衣液漏了",
    "扫码支付失败",
    "空气不流通",
    "指示牌不清楚",
    "奶茶太甜",
    "面包发霉",
    "手表走时不准",
    "玻璃门没有提示",
    "灯光太暗",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
FLOORS = ["1F", "2F", "3F", "4F", "5F", "6F", "7F"]
CATEGORIES = ["price", "merchant_service", "quality", "environment", "facility", "fee", "staff_service"]

# One statement: row i's fields are functions of i, so the load needs no round trip per row.
# The numbers carry i (the benchmark never looks one up); the shop is one of 40 on each floor.
GENERATE = """
INSERT INTO intake.complaints (id, mall_id, number, channel, category, severity, status, customer, floor,
    merchant_code, merchant, description, customer_request, promised_reply_date, received_at, received_by)
SELECT gen_random_uuid(), 'demo', 'TS-' || to_char(at, 'YYYYMMDD') || '-' || i,
    (ARRAY['phone', 'on_site', 'web', 'email', 'letter'])[1 + i %% 5], (%(categories)s::text[])[1 + i %% 7],
    'normal', 'received',
    jsonb_build_object('name', substr(%(surnames)s, 1 + i %% 20, 1) || (CASE WHEN i %% 2 = 0 THEN '女士' ELSE '先生' END),
                       'phone', '139' || lpad((i %% %(phones)s)::text, 8, '0'), 'language', 'zh-CN'),
    floor, 'M-' || floor || '-' || shop,
    jsonb_build_object('code', 'M-' || floor || '-' || shop, 'shop_name', '商户' || floor || right(shop, 2), 'floor', floor),
    (%(fragments)s::text[])[1 + (i::bigint * 7919) %% %(nfrag)s] || '，' || (%(fragments)s::text[])[1 + (i / 7) %% %(nfrag)s]
        || CASE WHEN i %% 20000 = 0 THEN '，榴莲千层变质' ELSE '' END,
    ARRAY[(ARRAY['refund', 'exchange', 'repair', 'apology'])[1 + i %% 4]], at::date + 3, at, 'desk'
FROM generate_series(1, %(count)s) AS i,
    LATERAL (SELECT now() - interval '730 days' + make_interval(secs => i * 63072000.0 / %(count)s) AS at,
                    (%(floors)s::text[])[1 + (i / 40) %% 7] AS floor, lpad((i %% 40)::text, 3, '0') AS shop) t
"""


def load(url: str, count: int) -> float:
    began = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "DROP INDEX intake.complaints_search, intake.complaints_by_phone, intake.complaints_by_phone_tail"
        )
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(
            GENERATE,
            {
                "categories": CATEGORIES,
                "surnames": SURNAMES,
                "phones": count // 3,
                "floors": FLOORS,
                "fragments": FRAGMENTS,
                "nfrag": len(FRAGMENTS),
                "count": count,
            },
        )
        conn.execute("CREATE INDEX complaints_search ON intake.complaints USING gin (search, received_at)")
        conn.execute(
            "CREATE INDEX complaints_by_phone ON intake.complaints (mall_id, intake.phone_key(customer ->> 'phone'),"
            " received_at DESC) WHERE customer ->> 'phone' IS NOT NULL"
        )
        conn.execute(
            "CREATE INDEX complaints_by_phone_tail ON intake.complaints"
            " (mall_id, right(intake.phone_key(customer ->> 'phone'), 4), received_at DESC)"
            " WHERE customer ->> 'phone' IS NOT NULL"
        )
        conn.execute("VACUUM ANALYZE intake.complaints")
    return time.monotonic() - began


def timed(action, runs: int) -> list[float]:
    action()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def report(name: str, samples: list[float], found: int) -> None:
    print(
        f"  {name:<34} p50 {statistics.median(samples):6.1f} ms   p95 {_percentile(samples, 0.95):6.1f} ms"
        f"   max {max(samples):6.1f} ms   ({found} shown)"
    )


def measure(url: str, args) -> None:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        search = ComplaintSearch(conn)
        now = conn.execute("SELECT now() AS now").fetchone()["now"]
        total = conn.execute("SELECT count(*) AS n FROM intake.complaints").fetchone()["n"]
        matching = conn.execute(
            "SELECT count(*) AS n FROM intake.complaints WHERE search @@ '酸奶'::tsquery"
        ).fetchone()["n"]
        print(f"\nintake.complaints: {total:,} rows; 酸奶 in {matching:,}")
        print(
            f"machine load: {os.getloadavg()[0]:.2f} (1 min), {busy_share():.0f}% busy just before the timed runs"
        )
        cases = {
            "酸奶 (desk, whole mall)": SearchQuery("demo", text="酸奶", now=now),
            "酸奶 (floor supervisor of 3F)": SearchQuery(
                "demo", text="酸奶", scope_floors=("3F",), scope_departments=(), now=now
            ),
            "酸奶过期 (a phrase)": SearchQuery("demo", text="酸奶过期", now=now),
            "榴莲 (a rare word)": SearchQuery("demo", text="榴莲", now=now),
            "phone 139 0000 1234": SearchQuery("demo", text="139 0000 1234", now=now),
            "phone's last four 1234": SearchQuery("demo", text="1234", now=now),
            "shop 商户3F07": SearchQuery("demo", text="商户3F07", now=now),
            "customer name 王女士 + 酸奶": SearchQuery("demo", text="王女士 酸奶", now=now),
        }
        for name, query in cases.items():
            found = len(search.find(query))
            report(name, timed(lambda q=query: search.find(q), args.runs), found)
        if args.compare_trigram:
            compare_trigram(conn, args.runs)


def compare_trigram(conn, runs: int) -> None:
    """pg_trgm's GIN index on the description, for the decision record: a two-character word has no
    trigram, so LIKE '%榴莲%' cannot use it; a common one is found by walking the newest rows anyway."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    began = time.monotonic()
    conn.execute("CREATE INDEX complaints_trgm ON intake.complaints USING gin (description gin_trgm_ops)")
    conn.commit()
    print(
        f"\npg_trgm GIN index on the description built in {time.monotonic() - began:.0f} s, size "
        + conn.execute("SELECT pg_size_pretty(pg_relation_size('intake.complaints_trgm')) AS s").fetchone()[
            "s"
        ]
        + "; bigram tsvector index "
        + conn.execute("SELECT pg_size_pretty(pg_relation_size('intake.complaints_search')) AS s").fetchone()[
            "s"
        ]
    )
    like = (
        "SELECT id FROM intake.complaints WHERE mall_id = 'demo' AND description LIKE %s"
        " ORDER BY received_at DESC LIMIT 50"
    )
    for word in ("酸奶", "酸奶过期", "榴莲", "榴莲千层"):
        samples = timed(lambda w=word: conn.execute(like, (f"%{w}%",)).fetchall(), max(3, runs // 10))
        report(f"pg_trgm LIKE '%{word}%'", samples, len(conn.execute(like, (f"%{word}%",)).fetchall()))


def run(args) -> int:
    if args.measure:
        facts = machine(**postgres_facts(args.measure))
        print("machine: " + ", ".join(f"{key} {value}" for key, value in facts.items()))
        measure(args.measure, args)
        return 0
    name = f"mall_bench_search_{os.getpid()}"
    url = database_url(args.admin_url, name)
    create_database(args.admin_url, name)
    try:
        apply_migrations(url, ["intake"])
        facts = machine(**postgres_facts(url))
        print("machine: " + ", ".join(f"{key} {value}" for key, value in facts.items()))
        print(f"generating {args.complaints:,} complaints with generate_series ...", flush=True)
        print(f"loaded and indexed in {load(url, args.complaints):.0f} s")
        measure(url, args)
    finally:
        if args.keep:
            print(f"kept: {url} (measure it again with --measure {url}; drop it when done)")
        else:
            drop_database(args.admin_url, name)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100, help="timed runs of each query (after one warm-up)")
    parser.add_argument("--compare-trigram", action="store_true", help="also time pg_trgm on the description")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database (its URL is printed)")
    parser.add_argument(
        "--measure", metavar="URL", help="only measure a database an earlier --keep run loaded"
    )
    add_admin_url(parser)
    args = parser.parse_args(argv)
    return run_dropping_on_stop(run, args)


if __name__ == "__main__":
    sys.exit(main())
