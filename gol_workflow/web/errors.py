"""Error pages in Italian; expected service errors become the right status code."""

from __future__ import annotations

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..api import reconnect
from ..domain.errors import Conflict, Forbidden, GolError, InvalidState, NotFound
from ..persistence.errors import RETRY_AFTER_SECONDS, database_unavailable, input_out_of_range
from .limits import too_large_message

MESSAGES = {
    400: ("Richiesta non valida", "La richiesta non è stata compresa. Ricaricare la pagina e riprovare."),
    401: ("Accesso richiesto", "Per continuare occorre accedere."),
    403: ("Accesso non consentito", "Il suo profilo non consente di aprire questa pagina."),
    404: ("Pagina non trovata", "La pagina richiesta non esiste oppure non è visibile con il suo profilo."),
    405: ("Operazione non consentita", "Questa operazione non è prevista per la pagina."),
    409: ("Operazione non più possibile", "Qualcun altro ha modificato gli stessi dati nel frattempo."),
    413: ("Richiesta troppo grande", "I dati inviati superano la dimensione massima consentita."),
    429: ("Troppi tentativi", "Attendere qualche minuto e riprovare."),
    500: ("Errore del servizio", "Si è verificato un errore imprevisto. Il problema è stato registrato."),
    503: ("Servizio momentaneamente non disponibile",
          "Il collegamento alla banca dati si è interrotto. Riprovare tra qualche secondo: i dati già salvati non sono persi."),
}


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    """The error page for a status code."""
    title, text = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        return render_error(400, "La sessione del modulo è scaduta o non è valida: ricaricare la pagina e riprovare.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400:
            return error
        if error.code == 413:
            return render_error(413, too_large_message())
        return render_error(error.code)

    @app.errorhandler(GolError)
    def _gol(error: GolError) -> tuple[str, int]:
        if isinstance(error, NotFound | Forbidden):
            return render_error(404)  # never confirm that something exists to someone who may not see it
        if isinstance(error, Conflict | InvalidState):
            return render_error(409)
        return render_error(400)

    reconnect.install(app)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int] | Response:
        reconnect.run_again_if_safe(error)
        if input_out_of_range(error):
            return render_error(400, "Un valore inviato è fuori dall'intervallo consentito.")
        if database_unavailable(error):
            app.logger.warning("database unavailable: %s", error)
            page, code = render_error(503)
            return Response(page, code, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, mimetype="text/html")
        app.logger.exception("unexpected error")
        return render_error(500)
