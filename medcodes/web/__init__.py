"""The web site: server-rendered pages that work without JavaScript, plus the app factory
that mounts the JSON API and FHIR operations beside them (`app.create_app`)."""
