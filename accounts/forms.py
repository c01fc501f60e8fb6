from django import forms
from django.utils.translation import gettext_lazy as _


class EmailSignInForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)


class DisplayNameForm(forms.Form):
    name = forms.CharField(label=_("Отображаемое имя"), max_length=150, strip=True)
