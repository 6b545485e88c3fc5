from __future__ import annotations

from django.contrib import admin

from library.models import Author, Book, Tag

admin.site.register(Author)
admin.site.register(Tag)
admin.site.register(Book)
