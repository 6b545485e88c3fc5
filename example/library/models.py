"""A small library: authors write books, books carry tags.

The primary keys cover both ways PostgreSQL numbers rows, because a read-only role
must be able to read both kinds of sequence: ``Author`` and ``Book`` get Django's
identity columns, ``Tag`` a ``serial`` column (see migration 0001).
"""

from __future__ import annotations

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="books")
    tags = models.ManyToManyField(Tag, blank=True, related_name="books")
    published = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("title",)

    def __str__(self) -> str:
        return self.title
