// The /scan page's camera scanner. It uses the browser's BarcodeDetector
// where it reads QR codes, and otherwise the embedded jsQR decoder
// (/static/vendor/jsQR.js, loaded only then). A code is followed only when
// it is a certificate verify link (…/v/<token>), and always on this site,
// so that a planted QR code cannot send the employer elsewhere. Without a
// camera the section stays hidden and the photo upload form still works.
(function () {
  'use strict';

  var section = document.getElementById('camera-section');
  if (!section || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  section.hidden = false;

  var video = document.getElementById('scan-video');
  var finder = document.getElementById('viewfinder');
  var canvas = document.getElementById('scan-canvas');
  var statusEl = document.getElementById('scan-status');
  var startBtn = document.getElementById('scan-start');
  var stopBtn = document.getElementById('scan-stop');

  var stream = null;
  var detector = null;
  var jsQRLoad = null;
  var timer = null;
  var busy = false;

  var TOKEN = '[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+';
  var VERIFY_LINK = new RegExp('/v/(' + TOKEN + ')/?(?:[?#].*)?$');
  var BARE_TOKEN = new RegExp('^' + TOKEN + '$');

  function say(text) {
    statusEl.textContent = text;
  }

  // verifyPath returns the path on this site that verifies what the code
  // holds, or null when it is not a certificate code.
  function verifyPath(text) {
    var s = String(text || '').trim();
    var m = VERIFY_LINK.exec(s);
    if (m) {
      return '/v/' + m[1];
    }
    if (BARE_TOKEN.test(s)) {
      return '/v/' + s;
    }
    return null;
  }

  function loadJsQR() {
    if (window.jsQR) {
      return Promise.resolve(window.jsQR);
    }
    if (!jsQRLoad) {
      jsQRLoad = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = '/static/vendor/jsQR.js';
        s.onload = function () { resolve(window.jsQR); };
        s.onerror = function () { reject(new Error('jsQR did not load')); };
        document.head.appendChild(s);
      });
    }
    return jsQRLoad;
  }

  function makeDetector() {
    if (!('BarcodeDetector' in window)) {
      return Promise.resolve(null);
    }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf('qr_code') >= 0 ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
    }).catch(function () { return null; });
  }

  function found(text) {
    var path = verifyPath(text);
    if (!path) {
      say('识别到的二维码不是证书查验码，请对准证书上的二维码。');
      return false;
    }
    stop();
    say('已识别，正在查验……');
    window.location.assign(path);
    return true;
  }

  // frameWithJsQR decodes the current video frame, scaled down so that a
  // phone's 4K camera does not stall the page.
  function frameWithJsQR() {
    var w = video.videoWidth;
    var h = video.videoHeight;
    if (!w || !h) {
      return null;
    }
    var scale = Math.min(1, 640 / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    var ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    var code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: 'attemptBoth' });
    return code ? code.data : null;
  }

  function scanOnce() {
    if (!stream || busy) {
      return;
    }
    busy = true;
    var attempt = detector
      ? detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; })
      : Promise.resolve(frameWithJsQR());
    attempt.then(function (text) {
      busy = false;
      if (text !== null && found(text)) {
        return;
      }
    }).catch(function () {
      busy = false;
      if (detector) {
        // A detector that fails on frames: fall back to jsQR.
        detector = null;
        loadJsQR().catch(function () { say('无法加载二维码识别程序，请使用下方的上传照片。'); stop(); });
      }
    });
  }

  function start() {
    say('正在打开摄像头……');
    Promise.all([
      navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }),
      makeDetector().then(function (d) {
        detector = d;
        return d ? null : loadJsQR();
      })
    ]).then(function (res) {
      stream = res[0];
      video.srcObject = stream;
      finder.hidden = false;
      startBtn.hidden = true;
      stopBtn.hidden = false;
      return video.play();
    }).then(function () {
      say('请将证书上的二维码置于取景框内。');
      timer = window.setInterval(scanOnce, 250);
    }).catch(function () {
      stop();
      say('无法使用摄像头（未授权或设备不支持）。请使用下方的“上传二维码照片”。');
    });
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
    if (stream) {
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }
    video.srcObject = null;
    finder.hidden = true;
    startBtn.hidden = false;
    stopBtn.hidden = true;
  }

  startBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', function () {
    stop();
    say('已停止。点击按钮可重新扫码。');
  });
  window.addEventListener('pagehide', stop);
}());
