from django.urls import path

from chats import views

urlpatterns = [
    path("chat/", views.chat_page, name="chat"),
    path("pricing/", views.pricing, name="pricing"),
    path("api/chats/models", views.models_list, name="chats-models"),
    path("api/chats/send", views.send, name="chats-send"),
    path("api/chats", views.chats, name="chats"),
    path("api/chats/<int:chat_id>", views.chat_detail, name="chat-detail"),
    path("api/chats/<int:chat_id>/messages", views.chat_messages, name="chat-messages"),
]
