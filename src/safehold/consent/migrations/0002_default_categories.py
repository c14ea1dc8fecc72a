"""The four default cookie categories; staff change them in the admin."""

from django.db import migrations

DEFAULTS = [
    {
        "slug": "necessary",
        "order": 10,
        "is_necessary": True,
        "name_en": "Strictly necessary",
        "name_zh": "严格必要",
        "description_en": (
            "Needed for the site to work: keeping you signed in, protecting forms against "
            "forgery, and remembering your cookie choice itself. They cannot be switched off."
        ),
        "description_zh": (
            "网站运行所必需：保持您的登录状态、保护表单免遭伪造，以及记住您的 Cookie 选择本身。"
            "这些 Cookie 无法关闭。"
        ),
        "cookies": "sessionid\ncsrftoken\n__Host-sessionid\n__Host-csrftoken\nmessages\nsh_vid\nsh_consent",
    },
    {
        "slug": "preferences",
        "order": 20,
        "name_en": "Preferences",
        "name_zh": "偏好设置",
        "description_en": (
            "Remember choices you make, such as your language, from one visit to the next."
        ),
        "description_zh": "在多次访问之间记住您所做的选择，例如您的语言。",
        "cookies": "django_language",
    },
    {
        "slug": "analytics",
        "order": 30,
        "name_en": "Analytics",
        "name_zh": "分析",
        "description_en": (
            "Count visits and see how the site is used, so that we can improve it. "
            "The figures stay on our own server."
        ),
        "description_zh": "统计访问量并了解网站的使用情况，以便我们改进网站。数据保存在我们自己的服务器上。",
    },
    {
        "slug": "marketing",
        "order": 40,
        "is_sale_or_sharing": True,
        "name_en": "Marketing",
        "name_zh": "营销",
        "description_en": (
            "Show you offers that match your interests, here and on other sites. "
            "A Global Privacy Control signal from your browser turns these off."
        ),
        "description_zh": "在本站及其他网站上向您展示符合您兴趣的优惠。浏览器发出的全球隐私控制（GPC）信号会关闭此类 Cookie。",
    },
]


def install(apps, schema_editor):
    Category = apps.get_model("consent", "Category")
    for values in DEFAULTS:
        Category.objects.update_or_create(slug=values["slug"], defaults=values)


def remove(apps, schema_editor):
    Category = apps.get_model("consent", "Category")
    Category.objects.filter(slug__in=[d["slug"] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
