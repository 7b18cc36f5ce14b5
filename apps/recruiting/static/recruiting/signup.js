// "Use my location": the browser's geolocation is WGS-84 (GPS), as the server expects.
(function () {
    var button = document.getElementById("use-location");
    var status = document.getElementById("location-status");
    if (!button) return;
    var text = window.SCRM_LOCATION_TEXT || {};
    button.addEventListener("click", function () {
        if (!navigator.geolocation) { status.textContent = text.denied; return; }
        status.textContent = text.asking;
        navigator.geolocation.getCurrentPosition(function (position) {
            document.getElementById("id_latitude").value = position.coords.latitude.toFixed(6);
            document.getElementById("id_longitude").value = position.coords.longitude.toFixed(6);
            status.textContent = text.found;
        }, function () { status.textContent = text.denied; }, { timeout: 10000, maximumAge: 600000 });
    });
})();
