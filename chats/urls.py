from django.urls import path

from chats import api, stream, views

urlpatterns = [
    path("chat/", views.chat_page, name="chat"),
    path("pricing/", views.pricing, name="pricing"),
    path("api/chats/models", api.models_list, name="chats-models"),
    path("api/chats/send", stream.send, name="chats-send"),
    path("api/chats", api.chats, name="chats"),
    path("api/chats/<int:chat_id>", api.chat_detail, name="chat-detail"),
    path("api/chats/<int:chat_id>/messages", api.chat_messages, name="chat-messages"),
]
