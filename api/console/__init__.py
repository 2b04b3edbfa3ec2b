"""The web console: pages served by the API process under /console/.

Server-rendered (Jinja2, autoescaped), a little plain JavaScript vendored in
``static/``, no CDN. The pages call the API's own service functions
(api/logs.py, api/instances.py, api/policies.py) as the JSON routes do;
``sessions.py`` keeps who signed in, ``signin.py`` hands the token of the
sign-in form to the auth strategy, ``text.py`` turns log bytes into text
that is safe to show, ``views.py`` is the blueprint.
"""
