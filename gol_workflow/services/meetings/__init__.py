"""Equipe meetings and agendas: zones' calendars, booking, convening, the ATS agenda."""
