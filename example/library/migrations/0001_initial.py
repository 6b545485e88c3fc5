from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

# Django 4.1+ creates every AutoField as an identity column on PostgreSQL. Many
# databases still hold tables from before, whose keys are ``serial`` columns with
# a sequence of their own; the Tag table is created that way on purpose, so the
# demo and the tests show the read-only role reading both kinds of sequence.
CREATE_SERIAL_TAG = """
CREATE TABLE library_tag (
    id serial PRIMARY KEY,
    name varchar(50) NOT NULL UNIQUE
)
"""


class Migration(migrations.Migration):
    initial = True

    operations = (
        migrations.CreateModel(
            name="Author",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("name", models.CharField(max_length=200)),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(CREATE_SERIAL_TAG, "DROP TABLE library_tag"),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="Tag",
                    fields=[
                        ("id", models.AutoField(primary_key=True, serialize=False)),
                        ("name", models.CharField(max_length=50, unique=True)),
                    ],
                ),
            ],
        ),
        migrations.CreateModel(
            name="Book",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("title", models.CharField(max_length=200)),
                ("published", models.DateField(blank=True, null=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="books",
                        to="library.author",
                    ),
                ),
                (
                    "tags",
                    models.ManyToManyField(
                        blank=True, related_name="books", to="library.tag"
                    ),
                ),
            ],
            options={
                "ordering": ("title",),
            },
        ),
    )
