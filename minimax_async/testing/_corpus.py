"""The offline "web" that the fake's ``web_search`` tool searches: a few made-up pages.

Every URL is under ``example.com`` (reserved for documentation), so nothing here points at a real
site. Each page lists extra keywords so that both Chinese and English questions can find it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CORPUS", "WebPage"]


@dataclass(frozen=True, kw_only=True)
class WebPage:
    """One search result: where it lives, what it says, and words that should find it."""

    url: str
    title: str
    content: str
    keywords: str = ""


CORPUS: tuple[WebPage, ...] = (
    WebPage(
        url="https://weather.example.com/shanghai/today",
        title="上海天气预报",
        content="上海今天多云转晴，最高气温12度，最低气温4度，东北风3级，空气质量良。",
        keywords="Shanghai weather forecast temperature 上海 天气 气温",
    ),
    WebPage(
        url="https://weather.example.com/beijing/today",
        title="北京天气预报",
        content="北京今天晴，最高气温6度，最低气温零下5度，西北风4级，天气干燥。",
        keywords="Beijing weather forecast temperature 北京 天气 气温",
    ),
    WebPage(
        url="https://weather.example.com/paris/today",
        title="Paris weather today",
        content="Paris is cloudy today with a high of 9°C, a low of 3°C and light rain after dark.",
        keywords="Paris weather forecast temperature rain 巴黎 天气",
    ),
    WebPage(
        url="https://park.example.com/news/christmas-2024",
        title="乐园圣诞季活动安排",
        content="上海迪士尼乐园圣诞季期间每晚举行圣诞树点灯仪式，并推出圣诞集章活动，完成任务可兑换小礼物。",
        keywords="Shanghai Disney Christmas events 上海 迪士尼 圣诞 活动 2024",
    ),
    WebPage(
        url="https://park.example.com/news/winter-festival",
        title="冬日冰雪节",
        content="上海迪士尼乐园冬日冰雪节从11月持续到次年2月，园区布置冰雪主题装饰并有限定巡游。",
        keywords="Shanghai Disney winter festival snow 上海 迪士尼 冬日 冰雪 圣诞 活动",
    ),
    WebPage(
        url="https://docs.example.com/python/asyncio",
        title="asyncio and anyio in brief",
        content="anyio runs the same async code on asyncio and on trio; structured concurrency "
        "with task groups and cancel scopes makes cancellation predictable.",
        keywords="python asyncio anyio trio async concurrency cancellation 异步",
    ),
    WebPage(
        url="https://news.example.com/ai/abab55",
        title="MiniMax abab5.5 发布",
        content="MiniMax 发布 abab5.5 大模型，支持函数调用、知识库检索、代码解释器和网络搜索"
        "等 Assistants 工具。",
        keywords="MiniMax abab5.5 model assistants release 模型 发布 大模型",
    ),
    WebPage(
        url="https://travel.example.com/great-wall",
        title="The Great Wall near Beijing",
        content="The Mutianyu section of the Great Wall is about 70 km from Beijing and is "
        "less crowded than Badaling; cable cars run all year.",
        keywords="Great Wall Beijing travel Mutianyu Badaling 长城 北京 旅游",
    ),
)
